"""topics.wait_until_led: a topic created a moment ago is served by its brokers once it returns."""

import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab import ns
from brokerlab.errors import BrokerlabError
from brokerlab.observe import topics

pytestmark = pytest.mark.integration


@pytest.fixture
def fresh_topic(brokers):
    admin = AdminClient(brokers.kafka_config())
    topic = ns(f"test-topics-{uuid.uuid4().hex[:8]}")
    admin.create_topics([NewTopic(topic, num_partitions=4)])[topic].result(timeout=15)
    yield admin, topic
    admin.delete_topics([topic])[topic].result(timeout=15)


def test_every_partition_answers_once_it_returns(brokers, fresh_topic):
    admin, topic = fresh_topic
    info = topics.wait_until_led(admin, topic, 4)
    assert sorted(info.partitions) == [0, 1, 2, 3] and all(p.leader >= 0 for p in info.partitions.values())
    reader = Consumer(brokers.kafka_config(**{"group.id": f"{topic}-reader"}))
    try:  # straight away, no retry: each partition's leader serves it
        marks = [reader.get_watermark_offsets(TopicPartition(topic, p), timeout=5) for p in range(4)]
        assert marks == [(0, 0)] * 4
    finally:
        reader.close()


def test_a_partition_count_that_never_comes_is_a_clear_error(fresh_topic):
    admin, topic = fresh_topic
    with pytest.raises(BrokerlabError, match=r"did not get a leader .* 4 partition\(s\)"):
        topics.wait_until_led(admin, topic, 5, timeout=1.5)

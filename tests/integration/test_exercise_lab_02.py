"""Lab 02 checker: rejects rewinds in seconds, to one partition only, or committing -1 where no
record is late enough; accepts the reference."""

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from brokerlab.course import checks
from brokerlab.exercises import lab_02_offset_management as lab02

pytestmark = pytest.mark.integration


def in_seconds(config, group, topic, timestamp_ms):
    """The reference, but given a time in seconds (what time.time() returns)."""
    checks.load_solution("lab_02_offset_management").rewind_group(config, group, topic, timestamp_ms // 1000)


def partition_zero_only(config, group, topic, timestamp_ms):
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        found = consumer.offsets_for_times([TopicPartition(topic, 0, timestamp_ms)], timeout=10)
    finally:
        consumer.close()
    admin = AdminClient(config)
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, found)])[group].result(timeout=10)


def commit_what_offsets_for_times_says(config, group, topic, timestamp_ms):
    """Every partition, but -1 ('no record that late') is committed as it is: the client drops it."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        query = [TopicPartition(topic, p, timestamp_ms) for p in range(3)]
        consumer.commit(offsets=consumer.offsets_for_times(query, timeout=10), asynchronous=False)
    finally:
        consumer.close()


def not_attempted(*_args):
    raise NotImplementedError


def failed(result):
    return "\n".join(line for line in result.feedback if line.startswith("✘"))


def test_expected_offsets():
    assert lab02.expected_offsets() == {0: 7, 1: 6, 2: 5}


def test_rejects_a_time_in_seconds(brokers):
    result = lab02.check_rewind_group(in_seconds, brokers)
    assert not result.passed
    assert "very beginning" in failed(result) and "MILLISECONDS" in failed(result), result


def test_rejects_rewinding_one_partition(brokers):
    result = lab02.check_rewind_group(partition_zero_only, brokers)
    assert not result.passed
    text = failed(result)
    assert "Partition(s) [1] were not rewound" in text and "EVERY partition" in text, result


def test_rejects_committing_minus_one(brokers):
    result = lab02.check_rewind_group(commit_what_offsets_for_times_says, brokers)
    assert not result.passed
    text = failed(result)
    assert "Partition(s) [2] have no record at or after the time" in text and "END" in text, result


def test_not_attempted_is_a_hint_not_a_traceback(brokers):
    result = lab02.check_rewind_group(not_attempted, brokers)
    assert not result.passed and "Not attempted" in result.feedback[0]


def test_accepts_the_reference(brokers):
    reference = checks.load_solution("lab_02_offset_management")
    result = lab02.check_rewind_group(reference.rewind_group, brokers)
    assert result.passed, result

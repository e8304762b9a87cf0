"""Notebook 02's consumer-lag checker rejects plausible wrong answers with the right hint and
accepts the reference solution, on the live Kafka."""

import time
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from brokerlab.course import checks
from brokerlab.exercises import lesson_02_consumer_lag
from brokerlab.settings import ns

pytestmark = pytest.mark.integration


def _offsets(config: dict, group: str, topic: str) -> list[tuple[int, int, int, int]]:
    """(partition, committed, low, high) for every partition, read without joining the group."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        rows = []
        for tp in committed:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=10)
            rows.append((tp.partition, tp.offset, low, high))
        return rows
    finally:
        consumer.close()


def ignores_uncommitted(config, group, topic):
    """Skips partitions where committed() says OFFSET_INVALID."""
    return {p: high - c for p, c, _low, high in _offsets(config, group, topic) if c >= 0}


def off_by_one(config, group, topic):
    """Takes the committed offset for the last record read: subtracts one too many."""
    return {p: high - (c if c >= 0 else low) - 1 for p, c, low, high in _offsets(config, group, topic)}


def total_instead_of_dict(config, group, topic):
    """Right numbers, summed into one."""
    return sum(high - (c if c >= 0 else low) for p, c, low, high in _offsets(config, group, topic))


def counts_from_zero(config, group, topic):
    """No commit → counts from offset 0, forgetting deleted records."""
    return {p: high - (c if c >= 0 else 0) for p, c, _low, high in _offsets(config, group, topic)}


def ignores_commits(config, group, topic):
    """Counts the whole partition everywhere: the size of the topic, not the group's lag."""
    return {p: high - low for p, _c, low, high in _offsets(config, group, topic)}


def position_without_fetching(config, group, topic):
    """assign() then position(): the consumer has fetched nothing, so position is OFFSET_INVALID."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        lags = {}
        for tp in consumer.position(tps):
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=10)
            lags[tp.partition] = high - tp.offset
        return lags
    finally:
        consumer.close()


def position_after_reading(config, group, topic):
    """Reads the backlog, then uses position(): caught up, so every lag is 0."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        deadline, quiet_since = time.monotonic() + 10, time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < 2:
            if consumer.poll(0.2) is not None:
                quiet_since = time.monotonic()
        lags = {}
        for tp in consumer.position(tps):
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=10)
            lags[tp.partition] = high - tp.offset
        return lags
    finally:
        consumer.close()


def auto_commits(config, group, topic):
    """Right answer, but reads the partitions with auto-commit on: it moves the group's offsets."""
    consumer = Consumer({**config, "group.id": group, "auto.offset.reset": "earliest"})
    try:
        lags = {p: high - (c if c >= 0 else low) for p, c, low, high in _offsets(config, group, topic)}
        consumer.subscribe([topic])
        deadline = time.monotonic() + 8
        read = 0
        while time.monotonic() < deadline and read < 5:
            msg = consumer.poll(0.5)
            read += msg is not None and msg.error() is None
        consumer.commit(asynchronous=False)
        return lags
    finally:
        consumer.close()


def not_attempted(config, group, topic):
    raise NotImplementedError


def never_returns(config, group, topic):
    while True:
        time.sleep(0.1)


@pytest.mark.parametrize(("wrong", "hint"), [
    (ignores_uncommitted, "are missing: the group never committed there"),
    (off_by_one, "Every lag is off by -1"),
    (total_instead_of_dict, "You returned one number, 18 (that is the total"),
    (counts_from_zero, "its low watermark is 2, not 0"),
    (ignores_commits, "Partition(s) [0, 2, 3]: your lag counts the whole partition"),
    (position_without_fetching, "you subtracted -1001"),
    (position_after_reading, "All your lags are 0"),
    (auto_commits, "changed the group's committed offsets"),
    (not_attempted, "Not attempted yet"),
])
def test_rejects_wrong_answers_with_a_specific_hint(brokers, wrong, hint):
    result = lesson_02_consumer_lag.check_partition_lag(wrong, brokers)
    assert not result.passed
    failed = [line for line in result.feedback if line.startswith("✘")]
    assert len(failed) == 1 and hint in failed[0], result


def test_a_function_that_never_returns_becomes_a_hint(brokers):
    started = time.monotonic()
    result = lesson_02_consumer_lag.check_partition_lag(never_returns, brokers, timeout=2)
    assert not result.passed and "did not return within 2 s" in str(result)
    assert time.monotonic() - started < 30


def test_accepts_the_reference_solution_and_cleans_up(brokers, monkeypatch):
    tag = f"t{uuid.uuid4().hex[:6]}-"  # this test's own names: other runs may use the cluster too
    monkeypatch.setattr(lesson_02_consumer_lag, "ns", lambda name: ns(tag + name))
    reference = checks.load_solution("lesson_02_consumer_lag")
    result = lesson_02_consumer_lag.check_partition_lag(reference.partition_lag, brokers)
    assert result.passed, result
    assert "{0: 3, 1: 4, 2: 0, 3: 8, 4: 3}" in str(result)
    admin = AdminClient(brokers.kafka_config())
    left = [t for t in admin.list_topics(timeout=10).topics if t.startswith(ns(tag))]
    groups = admin.list_consumer_groups(request_timeout=10).result(timeout=15).valid
    assert not left and not [g.group_id for g in groups if g.group_id.startswith(ns(tag))]


def test_expected_lags_follow_the_rule():
    assert lesson_02_consumer_lag.expected_lags() == {0: 3, 1: 4, 2: 0, 3: 8, 4: 3}

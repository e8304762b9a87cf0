"""Notebook 02's consumer-lag checker, on the live Kafka: it rejects plausible wrong answers with
the right hint, the answer of another scenario, the literal answers a failing attempt printed and
an answer built without asking the broker; it accepts every correct way to measure lag."""

import ast
import re
import time
import uuid

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

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


SEED_A, SEED_B = 11, 12  # two scenarios with different answers (asserted below)
OLD_LEAKED = {0: 3, 1: 4, 2: 0, 3: 8, 4: 3}  # the fixed answer the old checker printed in its hints


def admin_api_lag(config, group, topic):
    """Right, another way: the Admin API's committed offsets and list_offsets for the watermarks."""
    admin = AdminClient(config)
    partitions = sorted(admin.list_topics(topic, timeout=10).topics[topic].partitions)
    listed = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
    committed = {tp.partition: tp.offset for tp in listed.result(timeout=15).topic_partitions
                 if tp.topic == topic}
    ends = {}
    for spec in ("earliest", "latest"):
        request = {TopicPartition(topic, p): getattr(OffsetSpec, spec)() for p in partitions}
        replies = admin.list_offsets(request, request_timeout=10)
        ends[spec] = {tp.partition: future.result(timeout=15).offset for tp, future in replies.items()}
    return {p: ends["latest"][p] - (committed[p] if committed.get(p, -1) >= 0 else ends["earliest"][p])
            for p in partitions}


def one_call_per_partition(config, group, topic):
    """Right, a third way: committed() asked partition by partition."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        lags = {}
        for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
            [tp] = consumer.committed([TopicPartition(topic, p)], timeout=10)
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            lags[p] = high - (tp.offset if tp.offset >= 0 else low)
        return lags
    finally:
        consumer.close()


@pytest.mark.parametrize(("wrong", "hint"), [
    (ignores_uncommitted, "are missing: the group never committed there"),
    (off_by_one, "Every lag is off by -1"),
    (total_instead_of_dict, "(that is the total over all partitions)"),
    (counts_from_zero, "the low watermark is above 0"),
    (ignores_commits, "your lag counts the whole partition"),
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


def test_a_function_that_raises_gets_its_last_line_not_a_pass(brokers):
    def raises(config, group, topic):
        raise KeyError("partitions")

    result = lesson_02_consumer_lag.check_partition_lag(raises, brokers)
    assert not result.passed and "raised KeyError: 'partitions'" in str(result)


def test_a_function_that_never_returns_becomes_a_hint(brokers):
    started = time.monotonic()
    result = lesson_02_consumer_lag.check_partition_lag(never_returns, brokers, timeout=2)
    assert not result.passed and "did not return within 2 s" in str(result)
    assert time.monotonic() - started < 30


def test_rejects_the_answer_of_another_scenario(brokers):
    answer_a = lesson_02_consumer_lag.expected_lags(lesson_02_consumer_lag.scenario(SEED_A))
    assert answer_a != lesson_02_consumer_lag.expected_lags(lesson_02_consumer_lag.scenario(SEED_B))
    result = lesson_02_consumer_lag.check_partition_lag(lambda c, g, t: dict(answer_a), brokers, seed=SEED_B)
    assert not result.passed, result


def test_rejects_the_literal_answers_a_failing_attempt_printed(brokers, capsys):
    failing = lesson_02_consumer_lag.check_partition_lag(off_by_one, brokers, seed=SEED_A)
    printed = capsys.readouterr().out + str(failing)
    answer_a = lesson_02_consumer_lag.expected_lags(lesson_02_consumer_lag.scenario(SEED_A))
    assert not failing.passed and str(answer_a) not in printed  # the hint never gives the answer
    literals = [ast.literal_eval(d) for d in re.findall(r"\{[^{}]*\}", printed) if ":" in d]
    for seed in (SEED_A, None):  # the same scenario again, and a fresh one
        for literal in [*literals, OLD_LEAKED]:
            result = lesson_02_consumer_lag.check_partition_lag(lambda c, g, t, lit=literal: dict(lit),
                                                                brokers, seed=seed)
            assert not result.passed, (literal, result)


def test_rejects_an_answer_built_without_asking_the_broker(brokers):
    def guesses(config, group, topic):  # no client at all: every partition "a few behind"
        return {p: 5 for p in range(5)}

    assert not lesson_02_consumer_lag.check_partition_lag(guesses, brokers, seed=SEED_A).passed


def test_two_attempts_get_two_scenarios(brokers, capsys):
    seeds = []
    for _ in range(2):
        lesson_02_consumer_lag.check_partition_lag(not_attempted, brokers)
        seeds += re.findall(r"scenario seed (\d+)", capsys.readouterr().out)
    assert len(seeds) == 2 and seeds[0] != seeds[1]


@pytest.mark.parametrize("right", ["reference", admin_api_lag, one_call_per_partition])
def test_accepts_every_correct_variant_and_cleans_up(brokers, monkeypatch, right):
    tag = f"t{uuid.uuid4().hex[:6]}-"  # this test's own names: other runs may use the cluster too
    monkeypatch.setattr(lesson_02_consumer_lag, "ns", lambda name: ns(tag + name))
    fn = checks.load_solution("lesson_02_consumer_lag").partition_lag if right == "reference" else right
    for seed in (SEED_A, SEED_B):
        result = lesson_02_consumer_lag.check_partition_lag(fn, brokers, seed=seed)
        assert result.passed, result
    admin = AdminClient(brokers.kafka_config())
    left = [t for t in admin.list_topics(timeout=10).topics if t.startswith(ns(tag))]
    groups = admin.list_consumer_groups(request_timeout=10).result(timeout=15).valid
    assert not left and not [g.group_id for g in groups if g.group_id.startswith(ns(tag))]

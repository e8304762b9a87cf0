"""Notebook 05's replay checker rejects plausible wrong answers with the right hint and accepts
the reference solution, on the live Kafka."""

import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from brokerlab.course import checks
from brokerlab.exercises import lesson_05_replay_from
from brokerlab.settings import ns

pytestmark = pytest.mark.integration


def _read(config: dict, tp: TopicPartition, n: int, seconds: float = 5.0,
          subscribe: bool = False) -> list[bytes]:
    consumer = Consumer({**config, "enable.auto.commit": False})
    try:
        if subscribe:
            consumer.subscribe([tp.topic])
        else:
            consumer.assign([tp])
        values: list[bytes] = []
        deadline = time.monotonic() + seconds
        while len(values) < n and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                values.append(msg.value())
        return values
    finally:
        consumer.close()


def off_by_one(config, topic, partition, offset, n):
    """Starts after the offset, as if it were the last record already read."""
    return _read(config, TopicPartition(topic, partition, offset + 1), n)


def subscribe_latest(config, topic, partition, offset, n):
    """subscribe() with a new group and the default auto.offset.reset=latest: waits at the end."""
    return _read({**config, "auto.offset.reset": "latest"}, TopicPartition(topic), n, seconds=4,
                 subscribe=True)


def ignores_partition(config, topic, partition, offset, n):
    """Always reads partition 0."""
    return _read(config, TopicPartition(topic, 0, offset), n)


def reads_to_the_end(config, topic, partition, offset, n):
    """Right start, but returns everything up to the end of the partition."""
    return _read(config, TopicPartition(topic, partition, offset), 1000, seconds=3)


def not_attempted(config, topic, partition, offset, n):
    raise NotImplementedError


def never_returns(config, topic, partition, offset, n):
    while True:
        time.sleep(0.1)


def _seed_where_first_case_is_not_partition_0() -> int:
    def fits(plan) -> bool:  # partition 0 is long enough to hold the slice asked of another partition
        partition, offset, n = plan.cases[0]
        return partition != 0 and len(plan.records[0]) > offset + n

    return next(seed for seed in range(1, 1000) if fits(lesson_05_replay_from.scenario(seed)))


def _check(fn, brokers, seed=None, **kw):
    return lesson_05_replay_from.check_replay_from(fn, brokers, seed=seed, **kw)


@pytest.mark.parametrize(("wrong", "hint"), [
    (off_by_one, "off by +1"),
    (subscribe_latest, "returned no records"),
    (ignores_partition, "from partition(s) [0], expected only partition"),
    (reads_to_the_end, "expected exactly"),
    (not_attempted, "Not attempted yet"),
])
def test_rejects_wrong_answers_with_a_specific_hint(brokers, wrong, hint):
    result = _check(wrong, brokers, seed=_seed_where_first_case_is_not_partition_0())
    assert not result.passed
    failed = [line for line in result.feedback if line.startswith("✘")]
    assert len(failed) == 1 and hint in failed[0], result


def test_a_failing_attempt_prints_no_expected_value(brokers, capsys):
    seed = _seed_where_first_case_is_not_partition_0()
    plan = lesson_05_replay_from.scenario(seed)
    result = _check(off_by_one, brokers, seed=seed)
    printed = capsys.readouterr().out + str(result)
    assert f"seed {seed}" in printed
    partition, offset, n = plan.cases[0]
    for value in plan.records[partition][offset:offset + n]:
        assert value.decode() not in printed


def test_rejects_the_answer_for_another_scenario(brokers):
    other = lesson_05_replay_from.scenario(101)
    answers = iter([other.records[p][o:o + n] for p, o, n in other.cases])

    def replays_another_scenario(config, topic, partition, offset, n):
        return next(answers)

    result = _check(replays_another_scenario, brokers, seed=202)
    assert not result.passed and "never wrote in this attempt's topic" in str(result), result


def test_rejects_the_literal_answer_of_a_previous_attempt(brokers):
    kept: list[list[bytes]] = []

    def off_by_one_and_keep(config, topic, partition, offset, n):
        kept.append(off_by_one(config, topic, partition, offset, n))
        return kept[-1]

    assert not _check(off_by_one_and_keep, brokers).passed
    assert kept and kept[0]

    def pastes_what_it_saw(config, topic, partition, offset, n):
        return kept[0]

    result = _check(pastes_what_it_saw, brokers)
    assert not result.passed and "never wrote" in str(result), result


def test_rejects_an_answer_built_without_reading_kafka(brokers):
    def self_describing(config, topic, partition, offset, n):
        return [f"p{partition}-o{o}".encode() for o in range(offset, offset + n)]

    result = _check(self_describing, brokers)
    assert not result.passed and "never wrote" in str(result), result


def test_a_function_that_never_returns_becomes_a_hint(brokers):
    start = time.monotonic()
    result = _check(never_returns, brokers, timeout=2)
    assert not result.passed and "did not return within 2 s" in str(result)
    assert time.monotonic() - start < 30


def _poll_values(consumer, n, deadline, keep):
    """The values of up to n records that ``keep`` accepts, polled until ``deadline``."""
    values = []
    while len(values) < n and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None and keep(msg):
            values.append(msg.value())
    return values


def assign_then_seek(config, topic, partition, offset, n):
    """assign() at the beginning, then seek() to the offset once the partition is assigned."""
    consumer = Consumer({**config, "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, partition, 0)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                consumer.seek(TopicPartition(topic, partition, offset))
                break
            except Exception:  # not yet fetching: seek() needs an active assignment
                time.sleep(0.1)
        return _poll_values(consumer, n, deadline, lambda msg: msg.offset() >= offset)
    finally:
        consumer.close()


def subscribe_and_move_in_on_assign(config, topic, partition, offset, n):
    """subscribe() with an on_assign callback that keeps only the partition, at the offset."""
    consumer = Consumer({**config, "enable.auto.commit": False})

    def on_assign(c, partitions):
        c.assign([TopicPartition(topic, partition, offset)])

    try:
        consumer.subscribe([topic], on_assign=on_assign)
        return _poll_values(consumer, n, time.monotonic() + 20, lambda msg: msg.partition() == partition)
    finally:
        consumer.close()


def consume_in_batches(config, topic, partition, offset, n):
    """assign() and consume(num_messages=...) instead of poll()."""
    consumer = Consumer({**config, "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        values = []
        deadline = time.monotonic() + 10
        while len(values) < n and time.monotonic() < deadline:
            values += [m.value() for m in consumer.consume(num_messages=n - len(values), timeout=0.5)
                       if m.error() is None]
        return values
    finally:
        consumer.close()


@pytest.mark.parametrize("right", [assign_then_seek, subscribe_and_move_in_on_assign, consume_in_batches])
def test_accepts_every_correct_variant(brokers, right):
    result = _check(right, brokers)
    assert result.passed, result


def test_accepts_the_reference_solution_and_cleans_up(brokers):
    reference = checks.load_solution("lesson_05_replay_from")
    result = _check(reference.replay_from, brokers)
    assert result.passed, result
    assert sum(line.startswith("✔") for line in result.feedback) == 2

    admin = AdminClient(brokers.kafka_config())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [t for t in admin.list_topics(timeout=5).topics if t.startswith(ns("05-replay-check-"))]
        if not left:
            break
        time.sleep(0.3)
    assert not left, f"the checker left topics behind: {left}"


def test_a_function_that_raises_gets_its_error_and_a_hint_not_a_pass(brokers):
    def raises(config, topic, partition, offset, n):
        raise ValueError("no such partition in my head")

    result = _check(raises, brokers)
    assert not result.passed
    assert "raised ValueError: no such partition in my head" in str(result), result

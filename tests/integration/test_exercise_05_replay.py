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


@pytest.mark.parametrize(("wrong", "hint"), [
    (off_by_one, "off by +1"),
    (subscribe_latest, "returned no records"),
    (ignores_partition, "from partition(s) [0], expected only partition 1"),
    (reads_to_the_end, "expected exactly 5"),
    (not_attempted, "Not attempted yet"),
])
def test_rejects_wrong_answers_with_a_specific_hint(brokers, wrong, hint):
    result = lesson_05_replay_from.check_replay_from(wrong, brokers, record=False)
    assert not result.passed
    failed = [line for line in result.feedback if line.startswith("✘")]
    assert len(failed) == 1 and hint in failed[0], result


def test_a_function_that_never_returns_becomes_a_hint(brokers):
    start = time.monotonic()
    result = lesson_05_replay_from.check_replay_from(never_returns, brokers, timeout=2, record=False)
    assert not result.passed and "did not return within 2 s" in str(result)
    assert time.monotonic() - start < 30


def test_accepts_the_reference_solution_and_cleans_up(brokers):
    reference = checks.load_solution("lesson_05_replay_from")
    result = lesson_05_replay_from.check_replay_from(reference.replay_from, brokers, record=False)
    assert result.passed, result
    assert sum(line.startswith("✔") for line in result.feedback) == len(lesson_05_replay_from.CASES)

    admin = AdminClient(brokers.kafka_config())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [t for t in admin.list_topics(timeout=5).topics if t.startswith(ns("05-replay-check-"))]
        if not left:
            break
        time.sleep(0.3)
    assert not left, f"the checker left topics behind: {left}"

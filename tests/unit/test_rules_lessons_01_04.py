"""Lessons 01-02's verdict rules give each outcome its own verdict; their checkpoints reject a wrong
answer and accept the right one (no broker needed)."""

import pytest

from brokerlab.course import checkpoints, rules
from brokerlab.exercises import lesson_01_leftovers, lesson_02_consumer_lag

RETAIN = {"kafka_records_before_consuming": 3000, "kafka_records_after_consuming": 3000,
          "kafka_records_replayed": 3000, "rabbitmq_published": 200,
          "rabbitmq_held_while_unacked": 200, "rabbitmq_left_after_acks": 0}
KAFKA_DELETED = {"kafka_records_after_consuming": 0, "kafka_records_replayed": 0}
RABBIT_KEPT = {"rabbitmq_left_after_acks": 200}


@pytest.mark.parametrize(("change", "verdict"), [
    ({}, "confirmed"),
    (KAFKA_DELETED, "half-true"),
    (RABBIT_KEPT, "half-true"),
    ({"rabbitmq_held_while_unacked": 0}, "half-true"),  # the queue dropped messages before the acks
    ({**KAFKA_DELETED, **RABBIT_KEPT}, "refuted"),
])
def test_retain_vs_remove(change, verdict):
    assert rules.rule("retain-vs-remove").verdict({**RETAIN, **change}) == verdict


PUSH = {"kafka_lag_growth": 95, "kafka_fetch_requests": 12, "kafka_records_read": 3000,
        "rabbitmq_queued": 40, "rabbitmq_pushed_unasked": 40, "prefetch_count": 5,
        "rabbitmq_delivered_before_acks": 5, "rabbitmq_max_unacked_under_load": 5}
KAFKA_NOT_SHOWN = {"kafka_lag_growth": 4}
RABBIT_NOT_SHOWN = {"rabbitmq_pushed_unasked": 0}


@pytest.mark.parametrize(("change", "verdict"), [
    ({}, "confirmed"),
    (KAFKA_NOT_SHOWN, "half-true"),
    ({"kafka_fetch_requests": 3000}, "half-true"),  # one fetch per record is not batching
    ({"kafka_fetch_requests": None}, "half-true"),  # no statistics: the batching is not measured
    (RABBIT_NOT_SHOWN, "half-true"),
    ({"rabbitmq_delivered_before_acks": 40}, "half-true"),  # the prefetch did not hold
    ({**KAFKA_NOT_SHOWN, **RABBIT_NOT_SHOWN}, "refuted"),
])
def test_push_vs_pull(change, verdict):
    assert rules.rule("push-vs-pull").verdict({**PUSH, **change}) == verdict


@pytest.mark.parametrize(("measured", "verdict"), [
    ({"snippet_raised": True, "queued_after_snippet": 1}, "refuted"),
    ({"snippet_raised": False, "queued_after_snippet": 0}, "confirmed"),
    ({"snippet_raised": False, "queued_after_snippet": 1}, "half-true"),
])
def test_kafka_producer_snippet(measured, verdict):
    assert rules.rule("kafka-producer-snippet").verdict(measured) == verdict


CHECKPOINTS = [*lesson_01_leftovers.CHECKPOINTS, *lesson_02_consumer_lag.CHECKPOINTS]


@pytest.fixture(autouse=True)
def private_data(monkeypatch, tmp_path):
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BROKERLAB_PROGRESS_DIR", raising=False)


@pytest.mark.parametrize("cp", CHECKPOINTS, ids=lambda cp: cp.id)
def test_each_checkpoint_rejects_a_wrong_answer_and_accepts_the_right_one(cp, capsys):
    wrong = next(k for k in [*cp.choices, "0", "9", "11"] if k not in cp.accepted)
    assert not checkpoints.check(cp, wrong).passed
    assert checkpoints.check(cp, sorted(cp.accepted)[0].upper()).passed
    assert checkpoints.check(cp, None) is None
    assert cp.id.startswith(("lesson_01_checkpoint_", "lesson_02_checkpoint_"))

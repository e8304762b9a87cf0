"""The delivery log of lesson 05b: spread, redeliveries, order, and the consumer-thread runner."""

import threading
import time

import pytest

from brokerlab.course import checkpoints
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import lesson_05b_settle
from brokerlab.observe.deliveries import DeliveryLog, run_consumers


def log_of(*entries: tuple[int, int, int, str]) -> DeliveryLog:
    log = DeliveryLog()
    for consumer, position, count, outcome in entries:
        log.add(consumer, position, count, outcome)
    return log


def test_in_order_work_has_no_inversions() -> None:
    log = log_of((0, 0, 1, "accept"), (1, 1, 1, "accept"), (0, 2, 1, "accept"))
    assert log.inversions() == 0 and log.accepted_order() == [0, 1, 2]
    assert log.per_consumer() == {0: 2, 1: 1}


def test_each_job_finished_before_an_earlier_one_counts() -> None:
    log = log_of((0, 0, 1, "accept"), (1, 3, 1, "accept"), (0, 1, 1, "accept"), (2, 2, 1, "accept"))
    assert log.inversions() == 2


def test_released_deliveries_are_not_settled() -> None:
    log = log_of((0, 5, 1, "release"), (1, 5, 2, "release"), (2, 6, 1, "reject"), (0, 7, 1, "accept"))
    assert [d.count for d in log.deliveries(5)] == [1, 2]
    assert log.settled() == {6, 7}
    assert log.accepted_order() == [7]


def test_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(BrokerlabError):
        DeliveryLog().add(0, 0, 1, "ack")


def test_run_consumers_warms_up_then_stops_when_done() -> None:
    calls: list[float] = []

    def consume(i: int, stop: threading.Event, log: DeliveryLog) -> None:
        position = 0
        while not stop.is_set():
            log.add(i, position, 1, "accept")
            position += 1
            time.sleep(0.01)

    log, took = run_consumers(consume, 2, done=lambda log: len(log.items) >= 10, timeout=10,
                              warmup=0.1, then=lambda: calls.append(time.monotonic()))
    assert len(calls) == 1 and took < 5
    assert set(log.per_consumer()) == {0, 1}


def test_a_failing_consumer_is_reported() -> None:
    def consume(i: int, stop: threading.Event, log: DeliveryLog) -> None:
        raise RuntimeError("broker gone")

    with pytest.raises(BrokerlabError, match="broker gone"):
        run_consumers(consume, 1, done=lambda log: False, timeout=5)


@pytest.mark.parametrize("checkpoint, right, wrong", [
    (lesson_05b_settle.CHECKPOINTS[0], "c", "a"),
    (lesson_05b_settle.CHECKPOINTS[1], "b", "a"),
    (lesson_05b_settle.CHECKPOINTS[2], "100", "50"),
])
def test_checkpoints_accept_the_answer_and_reject_a_wrong_one(tmp_path, monkeypatch, checkpoint,
                                                               right, wrong) -> None:
    monkeypatch.setenv("BROKERLAB_PROGRESS_DIR", str(tmp_path))
    assert checkpoint.id.startswith("lesson_05b_checkpoint_")
    assert checkpoints.check(checkpoint, right).passed
    assert not checkpoints.check(checkpoint, wrong).passed
    assert checkpoints.check(checkpoint, None) is None

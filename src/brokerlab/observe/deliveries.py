"""Who got which record, how many times, and what they did with it: a log for competing consumers.

Lesson 05b runs several consumers of one Kafka share group, and several consumers of one RabbitMQ
work queue, in threads. Each consumer writes one :class:`Delivery` per record it receives; the log
then answers the lesson's questions from what happened: how the records were spread over the
consumers, how often each was delivered, whether the work finished in the order it was written.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from brokerlab.errors import BrokerlabError

OUTCOMES = ("accept", "release", "reject")  # Kafka's names; RabbitMQ: ack, nack+requeue, reject


@dataclass(frozen=True)
class Delivery:
    """One record handed to one consumer: when (s since the log began), to whom, which record (its
    position in the order it was written), the broker's delivery count and what the consumer did."""

    at: float
    consumer: int
    position: int
    count: int
    outcome: str


class DeliveryLog:
    """A thread-safe, append-only list of deliveries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Delivery] = []
        self.started = time.monotonic()

    def add(self, consumer: int, position: int, count: int, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise BrokerlabError(f"Outcome {outcome!r} is not one of {', '.join(OUTCOMES)}.")
        with self._lock:
            self._items.append(Delivery(time.monotonic() - self.started, consumer, position, count,
                                        outcome))

    @property
    def items(self) -> list[Delivery]:
        with self._lock:
            return list(self._items)

    def per_consumer(self) -> dict[int, int]:
        """How many deliveries each consumer received."""
        return dict(sorted(Counter(d.consumer for d in self.items).items()))

    def deliveries(self, position: int) -> list[Delivery]:
        """Every delivery of one record, in the order they happened."""
        return [d for d in self.items if d.position == position]

    def settled(self) -> set[int]:
        """Records that were accepted or rejected (done with, one way or the other)."""
        return {d.position for d in self.items if d.outcome in ("accept", "reject")}

    def accepted_order(self) -> list[int]:
        """The positions of accepted records, in the order their work finished."""
        return [d.position for d in self.items if d.outcome == "accept"]

    def inversions(self) -> int:
        """How many accepted records finished before one written earlier had finished (0 = the
        work was done in the order it was written)."""
        order = self.accepted_order()
        highest, count = -1, 0
        for position in order:
            if position < highest:
                count += 1
            highest = max(highest, position)
        return count

    def span(self) -> float:
        """Seconds from the first delivery to the last one."""
        items = self.items
        return items[-1].at - items[0].at if len(items) > 1 else 0.0


def run_consumers(consume: Callable[[int, threading.Event, DeliveryLog], None], consumers: int,
                  done: Callable[[DeliveryLog], bool], timeout: float, warmup: float = 0.0,
                  then: Callable[[], None] | None = None) -> tuple[DeliveryLog, float]:
    """Run ``consume(i, stop, log)`` in ``consumers`` threads; after ``warmup`` seconds (time for
    them to join their group) call ``then()`` (e.g. write the records); stop when ``done(log)``
    holds or ``timeout`` seconds have passed, and wait for each thread to return. Returns the log
    and the seconds from the start until ``done`` held (about ``timeout`` if it never did)."""
    log, stop = DeliveryLog(), threading.Event()
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            consume(i, stop, log)
        except BaseException as exc:  # shown to the learner below, not lost in a thread
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(consumers)]
    for thread in threads:
        thread.start()
    stop.wait(warmup)
    if then is not None and not stop.is_set():
        then()
    deadline = log.started + timeout
    while not stop.is_set() and not done(log) and time.monotonic() < deadline:
        time.sleep(0.05)
    took = time.monotonic() - log.started
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise BrokerlabError(f"A consumer thread failed: {errors[0]!r}",
                             "Check the brokers with `brokerlab status` and run the cell again.")
    return log, took

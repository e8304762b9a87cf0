"""A queue's counters from the RabbitMQ management API, and waiting for them to catch up.

The management API does not answer from the queue itself: the broker samples its counters
periodically (``collect_statistics_interval``) and the API serves the latest aggregated sample,
so a number can be a few seconds old. Lessons that assert on ``messages_ready`` or
``messages_unacknowledged`` wait with :func:`wait_for` until the sample shows what they expect,
with a deadline, and report how long that took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from brokerlab import waiting
from brokerlab.brokers.management import Management
from brokerlab.settings import Endpoints

COUNTERS = ("messages", "messages_ready", "messages_unacknowledged", "consumers")


def counters(queue: str, ep: Endpoints | None = None, vhost: str = "/", timeout: float = 3.0) -> dict:
    """The queue's counters as the management API reports them now: ``messages``,
    ``messages_ready``, ``messages_unacknowledged``, ``consumers`` (``None`` until the first
    sample after the queue was declared)."""
    info = Management.of(ep, timeout=timeout).queue(queue, vhost)
    return {key: info.get(key) for key in COUNTERS}


def wait_for(queue: str, expected: Callable[[dict], bool], what: str, ep: Endpoints | None = None,
             vhost: str = "/", timeout: float = 20.0, interval: float = 0.2) -> tuple[dict, float]:
    """Poll :func:`counters` until ``expected(counters)`` holds; return them and the seconds it
    took. ``what`` describes the expectation for the error raised after ``timeout`` seconds."""
    start = time.monotonic()
    last: dict = {}

    def settled() -> dict | None:
        nonlocal last
        last = counters(queue, ep, vhost)
        return last if all(last.get(k) is not None for k in COUNTERS[:3]) and expected(last) else None

    found = waiting.wait_for(
        settled, timeout, interval,
        problem=lambda _: f"Queue {queue!r}: the management API still reports {last} after "
                          f"{timeout:.0f} s, expected {what}.",
        fix="Its counters are sampled every few seconds; if they never change, check the broker "
            "with `brokerlab status`.")
    return found or last, time.monotonic() - start


def ready_once_released(channel: Any, queue: str, timeout: float = 10.0) -> int:
    """Messages ready in ``queue`` once no consumer is attached, i.e. once the broker has noticed a
    dead consumer and requeued its unacked messages (AMQP passive declare on ``channel``, exact)."""

    def released() -> Any:
        declared = channel.queue_declare(queue, passive=True).method  # passive: only look
        return declared if declared.consumer_count == 0 else None

    found = waiting.wait_for(released, timeout, 0.05,
                             problem=f"{queue} still has a consumer attached after {timeout:.0f} s.",
                             fix="Is another consumer attached to it (another kernel)?")
    return found.message_count

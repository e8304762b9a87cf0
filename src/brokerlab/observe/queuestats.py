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
from urllib.parse import quote

import requests

from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints
from brokerlab.settings import endpoints as current_endpoints

COUNTERS = ("messages", "messages_ready", "messages_unacknowledged", "consumers")
FIX = ("Check the brokers with `brokerlab status` (start them with `brokerlab up`); on your own "
       "cluster check RABBITMQ_MANAGEMENT_URL and that the management plugin is enabled.")


def counters(queue: str, ep: Endpoints | None = None, vhost: str = "/", timeout: float = 3.0) -> dict:
    """The queue's counters as the management API reports them now: ``messages``,
    ``messages_ready``, ``messages_unacknowledged``, ``consumers`` (``None`` until the first
    sample after the queue was declared)."""
    ep = ep or current_endpoints()
    url = (f"{ep.rabbitmq_management_url}/api/queues/{quote(vhost, safe='')}/"
           f"{quote(queue, safe='')}")
    try:
        reply = requests.get(url, auth=ep.management_auth, timeout=timeout)
    except requests.RequestException as exc:
        raise BrokerlabError(f"The RabbitMQ management API at {ep.rabbitmq_management_url} is not "
                             f"reachable ({type(exc).__name__}).", FIX) from None
    if reply.status_code == 404:
        raise BrokerlabError(f"RabbitMQ has no queue {queue!r} in vhost {vhost!r}.",
                             "Declare it first (channel.queue_declare).")
    if not reply.ok:
        raise BrokerlabError(f"The management API answered {reply.status_code} for {url}.", FIX)
    info = reply.json()
    return {key: info.get(key) for key in COUNTERS}


def wait_for(queue: str, expected: Callable[[dict], bool], what: str, ep: Endpoints | None = None,
             vhost: str = "/", timeout: float = 20.0, interval: float = 0.2) -> tuple[dict, float]:
    """Poll :func:`counters` until ``expected(counters)`` holds; return them and the seconds it
    took. ``what`` describes the expectation for the error raised after ``timeout`` seconds."""
    start = time.monotonic()
    last: dict = {}
    while True:
        last = counters(queue, ep, vhost)
        if all(last.get(k) is not None for k in COUNTERS[:3]) and expected(last):
            return last, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise BrokerlabError(
                f"Queue {queue!r}: the management API still reports {last} after {timeout:.0f} s, "
                f"expected {what}.",
                "Its counters are sampled every few seconds; if they never change, check the "
                "broker with `brokerlab status`.")
        time.sleep(interval)


def ready_once_released(channel: Any, queue: str, timeout: float = 10.0) -> int:
    """Messages ready in ``queue`` once no consumer is attached, i.e. once the broker has noticed a
    dead consumer and requeued its unacked messages (AMQP passive declare on ``channel``, exact)."""
    deadline = time.monotonic() + timeout
    while True:
        declared = channel.queue_declare(queue, passive=True).method  # passive: only look
        if declared.consumer_count == 0:
            return declared.message_count
        if time.monotonic() > deadline:
            raise BrokerlabError(f"{queue} still has {declared.consumer_count} consumer(s) after "
                                 f"{timeout:.0f} s.", "Is another consumer attached to it (another kernel)?")
        channel.connection.sleep(0.05)

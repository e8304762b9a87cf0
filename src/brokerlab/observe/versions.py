"""Which RabbitMQ a lesson talks to, and the behaviours that changed between its versions.

The course's native RabbitMQ is 3.10; Compose runs 3.13; Homebrew and current packages give 4.x.
Two behaviours the labs show differ between them:

- **classic queue storage**: up to 3.11 a classic queue keeps message bodies in RAM while memory
  lasts and pages them to disk when the node's memory monitor asks it to (``target_ram_count``
  falls from ``infinity``). From 3.12 classic queues use storage v2 (CQv2), which writes messages
  to disk as they arrive and keeps only a few in memory, whatever the node's memory.
- **quorum queue delivery limit**: up to 3.13 a quorum queue without ``x-delivery-limit`` redelivers
  a requeued message for ever. From 4.0 the default limit is 20: after 20 redeliveries the message
  is dead-lettered, or dropped when the queue has no dead-letter exchange.

A lab reads the version (:func:`rabbit_version`) and asks the functions below what to expect;
each takes the version as an argument, so tests can feed it every version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from brokerlab.brokers.management import Management
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints

Version = tuple[int, int, int]
CQV2_SINCE: Version = (3, 12, 0)  # classic queues write to disk as messages arrive
DEFAULT_DELIVERY_LIMIT_SINCE: Version = (4, 0, 0)  # quorum queues: x-delivery-limit 20 by default
DEFAULT_DELIVERY_LIMIT = 20


def parse(text: str) -> Version:
    """``"3.10.8"`` → ``(3, 10, 8)``; a suffix (``"4.0.5+1"``, ``"4.1.0-rc.1"``) is ignored."""
    match = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not match:
        raise BrokerlabError(f"Not a RabbitMQ version: {text!r}.")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def rabbit_version(ep: Endpoints) -> Version:
    """The version the broker's management API reports (``/api/overview`` → ``rabbitmq_version``)."""
    text = Management.of(ep).version()
    if text is None:
        raise BrokerlabError(f"Could not read RabbitMQ's version from {ep.rabbitmq_management_url}.",
                             "Check the broker with `brokerlab status`.")
    return parse(text)


def default_delivery_limit(version: Version) -> int | None:
    """A quorum queue's delivery limit when none is declared: None (no limit) before 4.0, else 20."""
    return DEFAULT_DELIVERY_LIMIT if version >= DEFAULT_DELIVERY_LIMIT_SINCE else None


@dataclass(frozen=True)
class Expectation:
    """What a demonstration should show on one broker version: ``expected`` (in words), whether
    this run's numbers ``held`` it, and what they mean (``meaning``)."""

    expected: str
    held: bool
    meaning: str


def classic_backlog(version: Version, ram_bytes: int, total_bytes: int,
                    target_ram_count: int | str | None) -> Expectation:
    """Where a classic queue with no consumer keeps ``total_bytes`` of bodies, on ``version``.

    Before 3.12: all of them in RAM, unless the node's memory monitor told the queue to page
    (``target_ram_count`` a number, not ``infinity``). From 3.12 (CQv2): most of them on disk."""
    shown = ".".join(map(str, version))
    if version >= CQV2_SINCE:
        return Expectation(
            f"RabbitMQ {shown} (3.12 or later): the classic queue keeps most bodies out of RAM "
            "(classic queue storage v2 writes them to disk as they arrive)",
            ram_bytes < 0.9 * total_bytes,
            "classic queues v2 page to disk from the first message, like the stream, though they "
            "still delete each message once it is acknowledged")
    paging = isinstance(target_ram_count, int)
    if ram_bytes >= 0.9 * total_bytes:
        meaning = "the node had memory to spare, so the queue kept every body in RAM"
    elif paging:
        meaning = (f"the node's memory is above the paging threshold (half the watermark), so its "
                   f"memory monitor told the queue to keep only {target_ram_count} messages in RAM "
                   "(target_ram_count) and page the rest to disk")
    else:
        meaning = "the queue paged its bodies to disk although no memory pressure was reported"
    return Expectation(
        f"RabbitMQ {shown} (before 3.12): the classic queue keeps its bodies in RAM unless the node's "
        "memory monitor asks it to page them to disk",
        ram_bytes >= 0.9 * total_bytes or paging, meaning)


def requeue_loop(version: Version, deliveries: int, redelivery_header: int, still_queued: int,
                 seconds: float) -> Expectation:
    """A poison message nacked with requeue=True on a quorum queue with no x-delivery-limit and no
    dead-letter exchange, watched for ``seconds``: what ``version`` does with it."""
    shown = ".".join(map(str, version))
    limit = default_delivery_limit(version)
    if limit is None:
        return Expectation(
            f"RabbitMQ {shown} (before 4.0): no default delivery limit, so the poison message is "
            f"redelivered without end (more than 100 times in {seconds:.0f} s), the x-delivery-count "
            "header counts every redelivery, and the message is still in the queue afterwards",
            deliveries > 100 and redelivery_header == deliveries - 1 and still_queued == 1,
            "nothing ends the loop: the message stays until a person or a limit removes it")
    return Expectation(
        f"RabbitMQ {shown} (4.0 or later): the default delivery limit {limit} ends the loop after "
        f"{limit + 1} deliveries, and with no dead-letter exchange the message is dropped",
        deliveries == limit + 1 and still_queued == 0,
        "the loop ended by itself, but the message is gone: without a dead-letter exchange nobody "
        "can look at it")

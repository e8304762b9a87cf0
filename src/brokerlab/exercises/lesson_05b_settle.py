"""Checker for lesson 05b's exercise: settle each record of a Kafka share group the right way.

The learner writes ``handle(consumer, msg, process)``: run ``process(msg.value())`` and acknowledge
the record with the :class:`~confluent_kafka.AcknowledgeType` that fits what happened — ACCEPT when
it worked, RELEASE when it failed for now (:class:`TransientError`: another try may work), REJECT
when it can never work (:class:`MalformedRecord`). The checker makes a fresh topic and share group
per attempt, writes good, flaky (fail on their first delivery) and malformed records, runs one
share consumer that calls ``handle`` for each record, and reads the verdict from what the broker
did: how often each record came back. Also the lesson's checkpoints.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from confluent_kafka import IllegalStateException, KafkaException, Producer, ShareConsumer
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from brokerlab.brokers import cleanup
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints, ns
from brokerlab.settings import endpoints as current_endpoints

EXERCISE = "lesson_05b_settle"
DELIVERY_LIMIT = 3  # share.delivery.count.limit of the checker's group
GOOD, FLAKY, MALFORMED = 6, 2, 2
QUIET = 3.0  # seconds without a delivery after which everything is taken as settled
DEADLINE = 30.0  # seconds the whole run may take
CALL_TIMEOUT = 10.0
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."


class TransientError(Exception):
    """Processing failed this time (a timeout, a busy database): another delivery may succeed."""


class MalformedRecord(Exception):
    """The record can never be processed (it does not parse): retrying cannot help."""


def records() -> list[bytes]:
    """The checker's records, interleaved: good ones, flaky ones and malformed ones."""
    kinds = ["good"] * GOOD + ["flaky"] * FLAKY + ["malformed"] * MALFORMED
    order = [kinds[i] for i in (0, 6, 1, 8, 2, 3, 7, 4, 9, 5)]
    return [f"{kind}-{i}".encode() for i, kind in enumerate(order)]


def group_configs(group: str, limit: int = DELIVERY_LIMIT) -> ConfigResource:
    """A share group that starts at the beginning of its topics and gives up after ``limit``
    deliveries of one record."""
    return ConfigResource(ResourceType.GROUP, group, incremental_configs=[
        ConfigEntry("share.auto.offset.reset", "earliest", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("share.delivery.count.limit", str(limit), incremental_operation=AlterConfigOpType.SET),
    ])


def _prepare(ep: Endpoints, topic: str, group: str) -> None:
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000, "log_level": 4}))
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1)], operation_timeout=10)[topic].result(20)
        for future in admin.incremental_alter_configs([group_configs(group)]).values():
            future.result(20)
    except KafkaException as exc:
        raise BrokerlabError(f"The checker could not create its topic and group: {exc}", FIX) from None
    producer = Producer(ep.kafka_config(**{"acks": "all", "message.timeout.ms": 15000}))
    for value in records():
        producer.produce(topic, value=value)
    if producer.flush(20):
        raise BrokerlabError(f"The checker could not write its records to {topic!r}.", FIX)


def _run(fn: Callable[..., Any], fb: Feedback, ep: Endpoints, topic: str, group: str) -> Counter | None:
    """Feed every delivery to the learner's ``handle``; count deliveries per record."""
    deliveries: Counter[bytes] = Counter()
    processed: set[bytes] = set()

    def process(value: bytes) -> None:
        kind = value.split(b"-")[0]
        if kind == b"malformed":
            raise MalformedRecord(f"{value.decode()} does not parse")
        if kind == b"flaky" and deliveries[value] == 1:
            raise TransientError(f"{value.decode()}: the service it calls timed out")
        processed.add(value)

    consumer = ShareConsumer(ep.kafka_config(**{"group.id": group, "log_level": 3,
                                                "share.acknowledgement.mode": "explicit"}))
    consumer.subscribe([topic])
    try:
        start = last = time.monotonic()
        while time.monotonic() - start < DEADLINE:
            try:
                batch = consumer.poll(0.5)
            except (IllegalStateException, KafkaException) as exc:
                fb.expect(False, "", f"The share consumer refused to poll again ({exc}). In explicit "
                                     "mode every record of a poll must be acknowledged before the next "
                                     "poll: call consumer.acknowledge(msg, ...) exactly once per record.")
                return None
            for msg in batch:
                if msg.error() is not None:
                    continue
                deliveries[msg.value()] += 1
                last = time.monotonic()
                ok, _ = fb.call_bounded(fn, consumer, msg, process, timeout=CALL_TIMEOUT,
                                        hang_hint="handle() should process one record and return.")
                if not ok:
                    return None
            if deliveries and time.monotonic() - last > QUIET:
                break
    finally:
        consumer.close()
    if not deliveries:
        raise BrokerlabError("The checker's share consumer received no record in "
                             f"{DEADLINE:.0f} s.", FIX)
    return deliveries


def _diagnose(fb: Feedback, deliveries: Counter) -> None:
    """One expectation per kind of record, read from how often the broker delivered each."""
    by_kind: dict[str, dict[bytes, int]] = {"good": {}, "flaky": {}, "malformed": {}}
    for value in records():
        by_kind[value.split(b"-")[0].decode()][value] = deliveries[value]

    def show(counts: dict[bytes, int]) -> str:
        return ", ".join(f"{v.decode()}×{n}" for v, n in counts.items())

    good, flaky, bad = by_kind["good"], by_kind["flaky"], by_kind["malformed"]
    fb.expect(all(n == 1 for n in good.values()),
              f"every good record delivered once and accepted ({show(good)})",
              f"good records came back ({show(good)}): a record that was processed must be "
              "acknowledged with AcknowledgeType.ACCEPT (the default of consumer.acknowledge(msg)).")
    if all(n == 1 for n in flaky.values()):
        fb.expect(False, "", f"the flaky records failed once and never came back ({show(flaky)}): "
                             "their work is lost. A TransientError may pass next time: RELEASE the "
                             "record so the group delivers it again.")
    else:
        fb.expect(all(n == 2 for n in flaky.values()),
                  f"each flaky record released after its TransientError and accepted on its second "
                  f"delivery ({show(flaky)})",
                  f"flaky records were delivered {show(flaky)} times, expected exactly twice: release "
                  "on TransientError, accept once process() returns.")
    fb.expect(all(n == 1 for n in bad.values()),
              f"every malformed record rejected at once, never redelivered ({show(bad)})",
              f"malformed records came back ({show(bad)}, the group gives up after {DELIVERY_LIMIT}): "
              "retrying cannot fix a record that does not parse. REJECT it on MalformedRecord.")


def check_handle(fn: Callable[..., Any], endpoints: Endpoints | None = None,
                 record: bool = True) -> CheckResult:
    """Run the learner's ``handle`` on a fresh share group on the live Kafka; never raises for a
    wrong or unattempted answer (only when the broker itself is unreachable)."""
    ep = endpoints or current_endpoints()
    fb = Feedback(EXERCISE, record=record)
    token = uuid.uuid4().hex[:8]
    topic, group = ns(f"05b-settle-check-{token}"), ns(f"05b-settle-check-{token}")
    _prepare(ep, topic, group)
    try:
        deliveries = _run(fn, fb, ep, topic, group)
        if deliveries is not None:
            _diagnose(fb, deliveries)
    finally:
        admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000, "log_level": 4}))
        cleanup.discard_kafka(admin, [topic], [])
    return fb.result()


CHECKPOINTS: tuple[Checkpoint, ...] = (
    Checkpoint(
        "lesson_05b_checkpoint_one_partition",
        "A topic has ONE partition. Three consumers join the same share group and read it. "
        "How many of them receive records?",
        frozenset({"c"}),
        "A share group hands records, not partitions, to its members: all three can hold records of "
        "the same partition at once. A consumer group would give the partition to one of them.",
        "Think about what a share group assigns to a member: a partition, or records?",
        {"a": "one: a partition has one reader at a time", "b": "one, the others wait as standbys",
         "c": "all three"}),
    Checkpoint(
        "lesson_05b_checkpoint_poison",
        "One record fails every time and its consumer RELEASEs it. The group's "
        "share.delivery.count.limit is 3. What happens to the records written after it?",
        frozenset({"b"}),
        "Other consumers keep taking and accepting them while the poison record cycles; after its "
        "third delivery the broker archives it and it is never delivered again.",
        "Count the poison record's deliveries in the run above, and when the others finished.",
        {"a": "they wait until the poison record is accepted", "b": "they are processed meanwhile; the "
         "poison record stops after 3 deliveries", "c": "they are redelivered 3 times too"}),
    Checkpoint(
        "lesson_05b_checkpoint_stream_readers",
        "Two consumers read the same RabbitMQ stream, each from offset 'first'. 100 messages are in "
        "it. How many does each one receive?",
        frozenset({"100"}),
        "A stream is a log: reading does not remove anything, so every reader gets every message, "
        "from wherever it starts (a queue would split them between the two).",
        "Is a stream a queue (consume removes) or a log (consume reads)?"),
)

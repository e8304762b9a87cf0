"""Checker for notebook 06's exercise: produce a burst with confluent-kafka without losing any of it.

The learner writes ``produce_all(producer, topic, payloads) -> int``: produce every payload with the
``confluent_kafka.Producer`` it is given, answer a full local queue (``BufferError``) with
``poll()`` and a retry of the same payload, ``flush()`` before returning, and return the number of
messages the broker acknowledged (delivery reports without error).

Each attempt draws a fresh scenario from a seed the checker prints: how many payloads, their size
and bytes, and how small the producer's local queue is. The checker builds the producer itself, so
the queue cannot be made larger to dodge the exercise: it must fill, and the checker counts the
``BufferError``s it raised. Then it reads the topic back: every payload must be there exactly once.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from brokerlab.bench.topology import create_topic
from brokerlab.brokers import cleanup
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback, is_reference
from brokerlab.exercises import seeds
from brokerlab.settings import Endpoints, endpoints, ns
from brokerlab.waiting import wait_for

EXERCISE = "lesson_06_produce_all"
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."

CHECKPOINTS = (
    Checkpoint(
        "lesson_06_checkpoint_littles_law",
        "A RabbitMQ publisher allows at most 10 messages awaiting their confirm, and a confirm takes "
        "2 ms on average. At most how many messages per second can it publish?",
        frozenset({"b"}),
        "Little's law: in flight = throughput × latency, so throughput ≤ 10 / 0.002 s = 5,000 msg/s, "
        "whatever the broker could take.",
        "Use in flight = throughput × mean latency, with the latency in seconds.",
        {"a": "500", "b": "5,000", "c": "20,000"}),
    Checkpoint(
        "lesson_06_checkpoint_buffer_error",
        "producer.produce(...) raised BufferError. What happened to that message?",
        frozenset({"c"}),
        "produce() only hands a record to the client's local queue; when the queue is full it refuses "
        "the record, which is not queued at all. poll() serves delivery reports and frees room; then "
        "produce the same record again.",
        "Think about where produce() puts a record, and what it does when that place is full.",
        {"a": "It was sent, but the broker has not acknowledged it yet",
         "b": "librdkafka will retry it by itself once there is room",
         "c": "It was not queued at all: serve delivery reports with poll(), then produce it again"}),
)


@dataclass(frozen=True)
class Scenario:
    """One attempt's burst: ``count`` payloads of ``size`` bytes into a local queue of ``queue``."""

    seed: int
    count: int
    size: int
    queue: int

    def payloads(self) -> list[bytes]:
        """Distinct bodies: an index, then random bytes drawn from the seed."""
        rng = random.Random(self.seed)
        return [f"{i:06d}:".encode() + rng.randbytes(self.size - 7) for i in range(self.count)]

    def __str__(self) -> str:
        return (f"scenario seed {self.seed}: {self.count} payloads of {self.size} B, a local queue of "
                f"{self.queue} messages")


def scenario(seed: int | None = None) -> Scenario:
    """The scenario of one attempt: drawn from ``seed`` (a fresh seed when None)."""
    seed, rng = seeds.draw(EXERCISE, seed)
    return Scenario(seed, count=rng.randrange(1200, 2401), size=rng.randrange(256, 1537),
                    queue=rng.randrange(40, 161))


class CountingProducer(Producer):
    """The checker's producer: counts the payloads it accepted and the ``BufferError``s it raised."""

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.accepted = 0
        self.refused = 0

    def produce(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().produce(*args, **kwargs)
        except BufferError:
            self.refused += 1
            raise
        self.accepted += 1


def producer_config(ep: Endpoints, s: Scenario) -> dict:
    """acks=all, some batching, and a local queue of only ``s.queue`` messages."""
    return ep.kafka_config(**{"acks": "all", "linger.ms": 5, "queue.buffering.max.messages": s.queue,
                              "message.timeout.ms": 20000})


def _read_back(ep: Endpoints, topic: str) -> list[bytes]:
    """Every value in partition 0 of ``topic`` (bounded: 20 s)."""
    consumer = Consumer(ep.kafka_config(**{"group.id": ns(f"exercise-produce-all-{uuid.uuid4().hex[:6]}"),
                                           "enable.auto.commit": False, "enable.partition.eof": True}))
    values: list[bytes] = []
    try:
        deadline = time.monotonic() + 20
        # A new topic's partition reaches this client's metadata within moments.
        low, high = wait_for(lambda: consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=5),
                             20, retry_on=(KafkaException,),
                             problem=f"The checker could not read topic {topic!r} back.", fix=FIX)
        if high <= low:
            return values
        consumer.assign([TopicPartition(topic, 0, low)])
        while time.monotonic() < deadline and len(values) < high - low:
            for msg in consumer.consume(500, timeout=0.5):
                if msg.error() is None:
                    values.append(msg.value())
                elif msg.error().code() == KafkaError._PARTITION_EOF and len(values) >= high - low:
                    break
    finally:
        consumer.close()
    return values


def judge(fb: Feedback, ok: bool, returned: Any, sent: list[bytes], got: list[bytes],
          producer: CountingProducer | None = None, error: BaseException | None = None) -> None:
    """Turn what the function returned, what the producer saw and what the topic holds into
    feedback. A hint says what went wrong, never what the right count would be."""
    n = len(sent)
    if isinstance(error, BufferError):
        fb.expect(False, "", f"BufferError: {error}. The producer's local queue is small here, so "
                             "produce() refuses more until delivery reports are served. Catch "
                             "BufferError, call producer.poll(0.1), and produce the SAME payload again.")
        return
    if not ok:
        return  # fb.call already recorded the hint
    arrived = set(got) & set(sent)
    missing = n - len(arrived)
    dupes = sum(c - 1 for c in Counter(got).values() if c > 1)
    if missing == n:
        fb.expect(False, "", "The topic is empty: none of the payloads arrived. Produce each payload "
                             "with the producer you were given, and call producer.flush() before "
                             "returning: without it, messages still queued in the client never leave.")
        return
    if missing:
        fb.expect(False, "", f"{missing} of {n} payloads never reached the topic. When produce() raises "
                             "BufferError the message was NOT queued: poll() and retry the same "
                             "payload; and flush() before returning.")
    else:
        fb.expect(True, f"All {n} payloads are in the topic.", "")
    if dupes:
        fb.expect(False, "", f"{dupes} payloads are in the topic more than once: retry only the payload "
                             "that raised BufferError, not ones already accepted.")
    elif not missing:
        fb.expect(True, "No payload was written twice.", "")
    if producer is not None:
        fb.expect(producer.accepted >= n and producer.refused > 0,
                  f"The local queue filled {producer.refused} times and you answered each BufferError.",
                  "The local queue of the producer you were given never filled: produce every payload "
                  "through it, as fast as it takes them (no flush() or waiting after each message), "
                  "and handle the BufferError it raises when full.")
    if isinstance(returned, bool) or not isinstance(returned, int):
        fb.expect(False, "", f"Return the number of acknowledged messages (an int); got "
                             f"{type(returned).__name__}. Count delivery reports whose err is None in "
                             "an on_delivery callback.")
    elif returned != len(arrived):
        fb.expect(False, "", f"You returned {returned}, which is not the number of messages the broker "
                             "acknowledged. Count in the on_delivery callback (err is None), and read "
                             "the count only after flush() has served every delivery report.")
    else:
        fb.expect(True, f"You returned {returned}, the number of acknowledged messages.", "")


def check_produce_all(fn: Callable[[Producer, str, list[bytes]], int], ep: Endpoints | None = None,
                      timeout: float = 60.0, seed: int | None = None) -> CheckResult:
    """Run ``fn(producer, topic, payloads)`` on a fresh scenario and topic; read it back and judge."""
    ep = ep or endpoints()
    s = scenario(seed)
    print(s)
    fb = Feedback(EXERCISE, record=not is_reference(fn))  # the checker wraps fn: decide here
    topic = ns(f"exercise-produce-all-{uuid.uuid4().hex[:8]}")
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000}))
    create_topic(ep, topic)  # one partition, waits until it has a leader
    producer = CountingProducer(producer_config(ep, s))
    try:
        sent = s.payloads()
        box: dict[str, BufferError] = {}

        def guarded(*args: Any) -> Any:
            try:
                return fn(*args)
            except BufferError as exc:  # gets its own, specific hint in judge()
                box["buffer"] = exc
                return None

        ok, returned = fb.call_bounded(guarded, producer, topic, list(sent), timeout=timeout,
                                       hang_hint="Bound every wait: poll(0.1) inside the retry loop, "
                                                 "flush(30) at the end.")
        got = _read_back(ep, topic)  # before anything flushes for the learner
        judge(fb, ok, returned, sent, got, producer, box.get("buffer"))
    finally:
        producer.purge()  # nothing the checker's producer still holds outlives the check
        producer.flush(5)
        cleanup.discard_kafka(admin, [topic])
    return fb.result()

"""Checker for notebook 06's exercise: produce a burst with confluent-kafka without losing any of it.

The learner writes ``produce_all(config, topic, payloads) -> int``: produce every payload, answer a
full local queue (``BufferError``) with ``poll()`` and a retry, ``flush()`` before returning, and
return the number of messages the broker acknowledged (delivery reports without error).

The checker hands it a producer config with a deliberately tiny local queue
(``queue.buffering.max.messages=100``), so a loop that ignores ``BufferError`` fails at once, and
then reads the topic back: every payload must be there exactly once.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from brokerlab.bench.topology import create_topic
from brokerlab.brokers import cleanup
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints, endpoints, ns

EXERCISE = "lesson_06_produce_all"
COUNT = 2000
LOCAL_QUEUE = 100
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."


def payloads(run: str, count: int = COUNT) -> list[bytes]:
    """Distinct 1 KiB bodies, each starting with its own id."""
    return [f"{run}-{i:06d}-".encode().ljust(1024, b".") for i in range(count)]


def producer_config(ep: Endpoints) -> dict:
    """acks=all, some batching, and a local queue of only 100 messages."""
    return ep.kafka_config(**{"acks": "all", "linger.ms": 5,
                              "queue.buffering.max.messages": LOCAL_QUEUE,
                              "message.timeout.ms": 20000})


def _read_back(ep: Endpoints, topic: str) -> list[bytes]:
    """Every value in partition 0 of ``topic`` (bounded: 20 s)."""
    consumer = Consumer(ep.kafka_config(**{"group.id": ns(f"exercise-produce-all-{uuid.uuid4().hex[:6]}"),
                                           "enable.auto.commit": False, "enable.partition.eof": True}))
    values: list[bytes] = []
    try:
        deadline = time.monotonic() + 20
        while True:  # a new topic's partition reaches this client's metadata within moments
            try:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=5)
                break
            except KafkaException:
                if time.monotonic() > deadline:
                    raise BrokerlabError(f"The checker could not read topic {topic!r} back.", FIX) from None
                time.sleep(0.2)
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
          error: BaseException | None = None) -> None:
    """Turn what the function returned and what the topic holds into specific feedback."""
    n = len(sent)
    if isinstance(error, BufferError):
        fb.expect(False, "", f"BufferError: {error}. The producer's local queue holds only {LOCAL_QUEUE} "
                             "messages here, so produce() refuses more until delivery reports are "
                             "served. Catch BufferError, call producer.poll(0.1), and produce the SAME "
                             "payload again.")
        return
    if not ok:
        return  # fb.call already recorded the hint
    counts = Counter(got)
    missing = n - len(set(got) & set(sent))
    dupes = sum(c - 1 for c in counts.values() if c > 1)
    if missing == n:
        fb.expect(False, "", f"The topic is empty: none of the {n} messages arrived. Did you call "
                             "producer.flush() before returning? Without it the messages still queued "
                             "in the client are lost when the producer goes away.")
    elif missing:
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
    if isinstance(returned, bool) or not isinstance(returned, int):
        fb.expect(False, "", f"Return the number of acknowledged messages (an int); got "
                             f"{type(returned).__name__} {returned!r}. Count delivery reports whose "
                             "err is None in an on_delivery callback.")
    elif returned != len(set(got) & set(sent)):
        fb.expect(False, "", f"You returned {returned}, but {len(set(got) & set(sent))} messages were "
                             "acknowledged. Count in the on_delivery callback (err is None), and read "
                             "the count only after flush() has served every delivery report.")
    else:
        fb.expect(True, f"You returned {returned}, the number of acknowledged messages.", "")


def check_produce_all(fn: Callable[[dict, str, list[bytes]], int], ep: Endpoints | None = None,
                      timeout: float = 60.0) -> CheckResult:
    """Run ``fn(config, topic, payloads)`` against a fresh topic; read the topic back and judge."""
    ep = ep or endpoints()
    fb = Feedback(EXERCISE)
    run = uuid.uuid4().hex[:8]
    topic = ns(f"exercise-produce-all-{run}")
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000}))
    create_topic(ep, topic)  # one partition, waits until it has a leader
    try:
        sent = payloads(run)
        box: dict[str, BufferError] = {}

        def guarded(*args: Any) -> Any:
            try:
                return fn(*args)
            except BufferError as exc:  # gets its own, specific hint in judge()
                box["buffer"] = exc
                return None

        ok, returned = fb.call_bounded(guarded, producer_config(ep), topic, list(sent), timeout=timeout,
                                       hang_hint="Bound every wait: poll(0.1) inside the retry loop, "
                                                 "flush(30) at the end.")
        got = _read_back(ep, topic)
        judge(fb, ok, returned, sent, got, box.get("buffer"))
    finally:
        cleanup.discard_kafka(admin, [topic])
    return fb.result()

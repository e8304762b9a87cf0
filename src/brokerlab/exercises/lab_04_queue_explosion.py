"""Lab 04 exercise: keep a work queue bounded when its consumer cannot keep up.

The learner writes ``prepare_consumer(channel, queue, max_ready, max_prefetch)``: declare ``queue``
and configure the consumer's channel. Each attempt draws its own scenario (the two limits, the
number of messages, their ids and payloads) from a seed it prints. The checker then consumes on
that channel (slowly, acking after the work), publishes more messages than the consumer can handle
with publisher confirms, and measures:

- the queue holds up to ``max_ready`` ready messages, never more (sampled over AMQP), and its bound
  is exactly ``max_ready`` (the management API's record of the queue: the room it was given is used);
- the consumer's prefetch is between 1 and ``max_prefetch`` (the management API's consumer record);
- no message the broker *confirmed* is lost (every confirmed id is consumed), so an overflow that
  drops messages silently (``drop-head``) does not pass;
- every published message was either confirmed or refused with a nack (the publisher was told).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pika
from pika.exceptions import AMQPError, NackError

from brokerlab import settings
from brokerlab.brokers.management import Management, api_path
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import seeds
from brokerlab.observe import metrics
from brokerlab.settings import Endpoints, amqp_parameters
from brokerlab.waiting import wait_for

EXERCISE = "lab_04_queue_explosion"
WORK = 0.02  # seconds the checker's consumer spends per message (about 50 per second)
DRAIN_TIMEOUT = 20.0

CHECKPOINTS = (
    Checkpoint("lab_04_checkpoint_prefetch", "A consumer with basic_qos(prefetch_count=10) is slower than "
               "its producer. Where does the backlog pile up?",
               frozenset({"b"}),
               "The prefetch limit caps the unacknowledged messages at 10; everything else waits as ready "
               "messages in the queue, so the backlog still grows.",
               "Look at the 'prefetch' row of section 3: which count stayed at 10, which one grew?",
               {"a": "as unacknowledged messages at the consumer", "b": "as ready messages in the queue",
                "c": "nowhere: the broker slows the producer down to the consumer's pace"}),
)


@dataclass(frozen=True)
class Scenario:
    """One attempt's numbers: the limits the learner is given and the load the checker sends."""

    seed: int
    max_ready: int  # ready messages the queue may hold
    max_prefetch: int  # unacknowledged messages the consumer may hold
    messages: int  # published as fast as confirms come back (a few hundred per second)
    ids: tuple[str, ...]
    body_size: int


def new_scenario(seed: int | None = None) -> Scenario:
    """Draw a scenario (printing its seed): limits 40-150 ready and 3-15 prefetch, 3-4x the bound
    in messages, random ids and body sizes."""
    seed, rng = seeds.draw(EXERCISE, seed)
    max_ready = rng.randint(40, 150)
    messages = rng.randint(3 * max_ready, 4 * max_ready)
    return Scenario(seed, max_ready, rng.randint(3, 15), messages,
                    tuple(seeds.token(rng) for _ in range(messages)), rng.randint(16, 512))


def _prefetch_of(ep: Endpoints, queue: str) -> int | None:
    """The prefetch_count of the consumer on ``queue`` as the broker reports it (None: not seen)."""
    for consumer in Management.of(ep).answers(api_path("consumers", "/")) or []:
        if consumer.get("queue", {}).get("name") == queue:
            return int(consumer.get("prefetch_count", 0))
    return None


class _SlowConsumer(threading.Thread):
    """Consumes on the learner's channel in a thread of its own: WORK s per message, ack after."""

    def __init__(self, connection: pika.BlockingConnection, channel: Any, queue: str) -> None:
        super().__init__(daemon=True)
        self.connection, self.channel, self.queue = connection, channel, queue
        self.consumed: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def on_message(self, channel: Any, method: Any, properties: Any, _body: bytes) -> None:
        if not self.stop.is_set():
            time.sleep(WORK)
        channel.basic_ack(method.delivery_tag)
        self.consumed.append(properties.message_id)

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.connection.process_data_events(time_limit=0.2)
        except BaseException as exc:  # reported by the checker
            self.error = exc
        finally:
            with contextlib.suppress(AMQPError):
                self.connection.close()


def check_bounded_queue(prepare_consumer: Callable[[Any, str, int, int], None],
                        ep: Endpoints | None = None, seed: int | None = None) -> CheckResult:
    """Run the learner's ``prepare_consumer(channel, queue, max_ready, max_prefetch)`` under load
    (a scenario drawn from ``seed``, fresh when None) and judge the queue."""
    ep = ep or settings.endpoints()
    sc = new_scenario(seed)
    print(f"  limits: max_ready={sc.max_ready}, max_prefetch={sc.max_prefetch}; load: {sc.messages} "
          "messages")
    fb = Feedback(EXERCISE)
    queue = settings.ns(f"lab04-exercise-{uuid.uuid4().hex[:8]}")
    consumer_conn = pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30))
    consumer: _SlowConsumer | None = None
    try:
        channel = consumer_conn.channel()
        ok, _ = fb.call(prepare_consumer, channel, queue, sc.max_ready, sc.max_prefetch)
        if not ok:
            return fb.result()
        slow = _SlowConsumer(consumer_conn, channel, queue)
        try:
            channel.basic_consume(queue, slow.on_message)
        except AMQPError as exc:
            fb.expect(False, "", f"basic_consume on {queue!r} failed after your function ran ({exc!r}). "
                                 "Did your function declare the queue it was given?")
            return fb.result()
        consumer = slow
        consumer.start()  # from here on the thread owns the consumer's connection
        prefetch = _wait_for_prefetch(ep, queue)  # the management API lists consumers within ~1 s
        confirmed, nacked, max_ready = _publish_load(ep, queue, sc)
        bound = _declared_bound(ep, queue)
        max_unacked = 0
        deadline = time.monotonic() + DRAIN_TIMEOUT
        seen, last_change = -1, time.monotonic()
        while time.monotonic() < deadline and consumer.error is None:
            if prefetch is None:
                prefetch = _prefetch_of(ep, queue)
            max_unacked = max(max_unacked, _unacked(ep, queue))
            if len(consumer.consumed) != seen:
                seen, last_change = len(consumer.consumed), time.monotonic()
            drained = _ready(ep, queue) == 0
            if drained and (seen >= len(confirmed) or time.monotonic() - last_change > 1.5):
                break
            time.sleep(0.2)
        consumer.stop.set()
        consumer.join(10)
        if consumer.error is not None:
            fb.expect(False, "", f"The consumer's connection failed: {consumer.error!r}")
            return fb.result()
        _judge(fb, sc, Load(confirmed, nacked, max_ready, bound), prefetch, max_unacked, consumer.consumed)
        return fb.result()
    finally:
        if consumer is None:
            with contextlib.suppress(AMQPError):
                consumer_conn.close()
        elif consumer.is_alive():
            consumer.stop.set()
            consumer.join(10)
        _delete(ep, queue)


def _wait_for_prefetch(ep: Endpoints, queue: str, timeout: float = 6.0) -> int | None:
    """The prefetch of the queue's consumer once the management API lists it (None: not in time)."""
    found = wait_for(lambda: (p,) if (p := _prefetch_of(ep, queue)) is not None else None, timeout, 0.3)
    return found[0] if found else None


def _unacked(ep: Endpoints, queue: str) -> int:
    """messages_unacknowledged from the management API (refreshed about once a second)."""
    info = Management.of(ep).answers(api_path("queues", "/", queue)) or {}
    return int(info.get("messages_unacknowledged", 0) or 0)


def _ready(ep: Endpoints, queue: str) -> int:
    with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
        return connection.channel().queue_declare(queue, passive=True).method.message_count


def _declared_bound(ep: Endpoints, queue: str) -> int | None:
    """The queue's x-max-length as the broker applies it (argument or policy); None: unbounded."""
    try:
        record = metrics.rabbit_queue(ep, queue)
    except BrokerlabError:
        return None
    bound = (record.get("arguments") or {}).get("x-max-length")
    if bound is None:
        bound = (record.get("effective_policy_definition") or {}).get("max-length")
    return int(bound) if isinstance(bound, int) else None


@dataclass(frozen=True)
class Load:
    """What publishing the scenario's messages produced."""

    confirmed: list[str]
    nacked: list[str]
    max_ready: int  # the most ready messages a sample saw
    bound: int | None  # the queue's x-max-length as the broker applies it


def _publish_load(ep: Endpoints, queue: str, sc: Scenario) -> tuple[list[str], list[str], int]:
    """Publish the scenario's messages with confirms, sampling the ready count:
    (confirmed, nacked, max ready)."""
    confirmed: list[str] = []
    nacked: list[str] = []
    max_ready = 0
    body = random.Random(sc.seed).randbytes(sc.body_size)
    with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        for i, message_id in enumerate(sc.ids):
            try:
                channel.basic_publish("", queue, message_id.encode() + b":" + body,
                                      pika.BasicProperties(message_id=message_id))
                confirmed.append(message_id)
            except NackError:
                nacked.append(message_id)
            if i % 10 == 0:
                depth = channel.queue_declare(queue, passive=True).method.message_count
                max_ready = max(max_ready, depth)
        max_ready = max(max_ready, channel.queue_declare(queue, passive=True).method.message_count)
    return confirmed, nacked, max_ready


def _judge(fb: Feedback, sc: Scenario, load: Load, prefetch: int | None, max_unacked: int,
           consumed: list[str]) -> None:
    confirmed, nacked = load.confirmed, load.nacked
    fb.expect(load.max_ready <= sc.max_ready,
              f"The queue never held more than {load.max_ready} ready messages (limit {sc.max_ready}).",
              f"The queue held up to {load.max_ready} ready messages while the consumer fell behind, more "
              "than max_ready. Bound it when you declare it: arguments={'x-max-length': ..., ...} "
              "with the limit you were given.")
    if load.max_ready <= sc.max_ready:
        fb.expect(load.bound == sc.max_ready,
                  "The queue's bound is the limit you were given: it buffers all the room it may.",
                  "The queue's x-max-length is not the max_ready you were given: it refused messages "
                  "it had room for. Use the argument the checker passed, not a number of your own.")
    if prefetch is None:
        fb.expect(False, "", "The checker could not see your consumer in the management API "
                             "(/api/consumers). Did your function leave the channel open?")
    prefetch_ok = prefetch is not None and 1 <= prefetch <= sc.max_prefetch
    if prefetch is not None:
        fb.expect(prefetch_ok,
                  f"The consumer's prefetch is {prefetch}: at most {prefetch} unacknowledged "
                  "messages in flight.",
                  f"The consumer's prefetch_count is {prefetch}"
                  + (" (0 means unlimited: the broker pushes every message it has)" if prefetch == 0
                     else " (more than the max_prefetch you were given)")
                  + f"; the broker reported up to {max_unacked} unacknowledged messages on it, and "
                    "those do not count towards x-max-length. Call channel.basic_qos(prefetch_count=...) "
                    "with at least 1 and at most max_prefetch before consuming.")
    consumed_set = set(consumed)
    lost = [m for m in confirmed if m not in consumed_set]
    fb.expect(bool(confirmed) and not lost,
              f"All {len(confirmed)} messages the broker confirmed were consumed.",
              f"{len(lost)} of the {len(confirmed)} messages the broker had CONFIRMED were never "
              "delivered: the overflow behaviour dropped them silently. 'drop-head' (the default) "
              "discards the oldest messages; use 'x-overflow': 'reject-publish' so the publisher gets "
              "a nack instead." if confirmed else
              "The broker confirmed none of the messages: the queue refused everything.")
    duplicates = [m for m, n in Counter(consumed).items() if n > 1]
    fb.expect(not duplicates, "No message was consumed twice.",
              f"{len(duplicates)} messages were consumed twice.")
    if not prefetch_ok:
        return  # with unlimited prefetch nothing waits in the queue, so nothing could be refused
    fb.expect(len(confirmed) + len(nacked) == sc.messages and bool(nacked),
              f"The publisher was told about every refusal: {len(nacked)} of {sc.messages} nacked, "
              f"{len(confirmed)} confirmed.",
              f"Only {len(nacked)} of {sc.messages} publishes were refused with a nack while the queue "
              "was full: a bounded queue should push back on the publisher "
              "('x-overflow': 'reject-publish').")


def _delete(ep: Endpoints, queue: str) -> None:
    try:
        with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
            connection.channel().queue_delete(queue)
    except AMQPError:
        pass

"""Lab 04 exercise: keep a work queue bounded when its consumer cannot keep up.

The learner writes ``prepare_consumer(channel, queue)``: declare ``queue`` and configure the
consumer's channel. The checker then consumes on that channel (slowly, acking after the work),
publishes more messages than the consumer can handle with publisher confirms, and measures:

- the queue never holds more than ``MAX_READY`` ready messages (sampled over AMQP);
- the consumer's prefetch is between 1 and ``MAX_PREFETCH`` (the management API's consumer record);
- no message the broker *confirmed* is lost (every confirmed id is consumed), so an overflow that
  drops messages silently (``drop-head``) does not pass;
- every published message was either confirmed or refused with a nack (the publisher was told).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pika
import requests
from pika.exceptions import AMQPError, NackError

from brokerlab import settings
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.settings import Endpoints, amqp_parameters

EXERCISE = "lab_04_queue_explosion"
MAX_READY = 100  # ready messages the queue may hold
MAX_PREFETCH = 10  # unacknowledged messages the consumer may hold
MESSAGES = 400  # the load: published as fast as confirms come back (a few hundred per second)
WORK = 0.02  # seconds the checker's consumer spends per message (about 50 per second)
DRAIN_TIMEOUT = 20.0


def _prefetch_of(ep: Endpoints, queue: str) -> int | None:
    """The prefetch_count of the consumer on ``queue`` as the broker reports it (None: not seen)."""
    url = f"{ep.rabbitmq_management_url}/api/consumers/{quote('/', safe='')}"
    try:
        consumers = requests.get(url, auth=ep.management_auth, timeout=5).json()
    except (requests.RequestException, ValueError):
        return None
    for consumer in consumers:
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

    def on_message(self, channel: Any, method: Any, _properties: Any, body: bytes) -> None:
        if not self.stop.is_set():
            time.sleep(WORK)
        channel.basic_ack(method.delivery_tag)
        self.consumed.append(body.decode())

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.connection.process_data_events(time_limit=0.2)
        except BaseException as exc:  # reported by the checker
            self.error = exc
        finally:
            with contextlib.suppress(AMQPError):
                self.connection.close()


def check_bounded_queue(prepare_consumer: Callable[[Any, str], None],
                        ep: Endpoints | None = None) -> CheckResult:
    """Run the learner's ``prepare_consumer(channel, queue)`` under load and judge the queue."""
    ep = ep or settings.endpoints()
    fb = Feedback(EXERCISE)
    queue = settings.ns(f"lab04-exercise-{uuid.uuid4().hex[:8]}")
    consumer_conn = pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30))
    consumer: _SlowConsumer | None = None
    try:
        channel = consumer_conn.channel()
        ok, _ = fb.call(prepare_consumer, channel, queue)
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
        confirmed, nacked, max_ready = _publish_load(ep, queue)
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
        _judge(fb, confirmed, nacked, max_ready, prefetch, max_unacked, consumer.consumed)
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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prefetch = _prefetch_of(ep, queue)
        if prefetch is not None:
            return prefetch
        time.sleep(0.3)
    return None


def _unacked(ep: Endpoints, queue: str) -> int:
    """messages_unacknowledged from the management API (refreshed about once a second)."""
    url = f"{ep.rabbitmq_management_url}/api/queues/{quote('/', safe='')}/{quote(queue, safe='')}"
    try:
        return int(requests.get(url, auth=ep.management_auth, timeout=5).json()
                   .get("messages_unacknowledged", 0) or 0)
    except (requests.RequestException, ValueError):
        return 0


def _ready(ep: Endpoints, queue: str) -> int:
    with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
        return connection.channel().queue_declare(queue, passive=True).method.message_count


def _publish_load(ep: Endpoints, queue: str) -> tuple[list[str], list[str], int]:
    """Publish MESSAGES with confirms, sampling the ready count: (confirmed, nacked, max ready)."""
    confirmed: list[str] = []
    nacked: list[str] = []
    max_ready = 0
    with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        for i in range(MESSAGES):
            message_id = str(i)
            try:
                channel.basic_publish("", queue, message_id.encode(),
                                      pika.BasicProperties(message_id=message_id))
                confirmed.append(message_id)
            except NackError:
                nacked.append(message_id)
            if i % 20 == 0:
                depth = channel.queue_declare(queue, passive=True).method.message_count
                max_ready = max(max_ready, depth)
        max_ready = max(max_ready, channel.queue_declare(queue, passive=True).method.message_count)
    return confirmed, nacked, max_ready


def _judge(fb: Feedback, confirmed: list[str], nacked: list[str], max_ready: int, prefetch: int | None,
           max_unacked: int, consumed: list[str]) -> None:
    fb.expect(max_ready <= MAX_READY,
              f"The queue never held more than {max_ready} ready messages (limit {MAX_READY}).",
              f"The queue held up to {max_ready} ready messages while the consumer fell behind "
              f"(limit {MAX_READY}). Bound it when you declare it: "
              f"arguments={{'x-max-length': {MAX_READY}, ...}}.")
    if prefetch is None:
        fb.expect(False, "", "The checker could not see your consumer in the management API "
                             "(/api/consumers). Did your function leave the channel open?")
    prefetch_ok = prefetch is not None and 1 <= prefetch <= MAX_PREFETCH
    if prefetch is not None:
        fb.expect(prefetch_ok,
                  f"The consumer's prefetch is {prefetch}: at most {prefetch} unacknowledged "
                  "messages in flight.",
                  f"The consumer's prefetch_count is {prefetch}"
                  + (" (0 means unlimited: the broker pushes every message it has)" if prefetch == 0
                     else f" (more than {MAX_PREFETCH})")
                  + f"; the broker reported up to {max_unacked} unacknowledged messages on it, and "
                    "those do not count towards x-max-length"
                  + f". Call channel.basic_qos(prefetch_count=...) with 1..{MAX_PREFETCH} "
                    "before consuming.")
    consumed_set = set(consumed)
    lost = [m for m in confirmed if m not in consumed_set]
    fb.expect(not lost,
              f"All {len(confirmed)} messages the broker confirmed were consumed.",
              f"{len(lost)} of the {len(confirmed)} messages the broker had CONFIRMED were never "
              "delivered (e.g. ids " + ", ".join(lost[:5]) + "): the overflow behaviour dropped them "
              "silently. 'drop-head' (the default) discards the oldest messages; use "
              "'x-overflow': 'reject-publish' so the publisher gets a nack instead.")
    duplicates = [m for m, n in Counter(consumed).items() if n > 1]
    fb.expect(not duplicates, "No message was consumed twice.",
              f"{len(duplicates)} messages were consumed twice (e.g. {duplicates[:5]}).")
    if not prefetch_ok:
        return  # with unlimited prefetch nothing waits in the queue, so nothing could be refused
    fb.expect(len(confirmed) + len(nacked) == MESSAGES and bool(nacked),
              f"The publisher was told about every refusal: {len(nacked)} of {MESSAGES} nacked, "
              f"{len(confirmed)} confirmed.",
              f"Only {len(nacked)} of {MESSAGES} publishes were refused with a nack while the queue "
              "was full: a bounded queue should push back on the publisher "
              "('x-overflow': 'reject-publish').")


def _delete(ep: Endpoints, queue: str) -> None:
    try:
        with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
            connection.channel().queue_delete(queue)
    except AMQPError:
        pass

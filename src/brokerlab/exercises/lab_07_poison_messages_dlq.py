"""Lab 07 exercise: park poison messages in a dead-letter queue after at most N deliveries.

The learner writes ``setup_queues(channel, names, max_deliveries)``. ``names`` holds
``names["work"]`` (the queue consumers read), ``names["dlx"]`` (a dead-letter exchange) and
``names["dlq"]`` (the queue where poison messages must end up). The checker publishes good and
poison messages to ``names["work"]`` (default exchange) and consumes them like a naive service:
it acks good messages and ``basic_nack(requeue=True)`` poison ones, for at most ``RUN_SECONDS``.
It passes when every good message was processed once, each poison message was delivered at most
``max_deliveries`` times, and every poison message sits in ``names["dlq"]``.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pika
from pika.exceptions import AMQPError, ChannelClosedByBroker

from brokerlab import settings
from brokerlab.brokers import cleanup
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.settings import Endpoints, amqp_parameters

EXERCISE = "lab_07_poison_messages_dlq"
MAX_DELIVERIES = 3
GOOD, POISON = 10, 2
RUN_SECONDS = 8.0


def new_names(run: str | None = None) -> dict[str, str]:
    """Fresh, namespaced names for one attempt."""
    prefix = settings.ns(f"lab07-ex-{run or uuid.uuid4().hex[:8]}-")
    return {"prefix": prefix, "work": f"{prefix}work", "dlx": f"{prefix}dlx", "dlq": f"{prefix}dlq"}


def check_dead_lettering(setup_queues: Callable[[Any, dict[str, str], int], None],
                         ep: Endpoints | None = None) -> CheckResult:
    """Run the learner's ``setup_queues(channel, names, MAX_DELIVERIES)`` and a naive consumer."""
    ep = ep or settings.endpoints()
    fb = Feedback(EXERCISE)
    names = new_names()
    try:
        with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
            try:
                ok, _ = fb.call(setup_queues, connection.channel(), dict(names), MAX_DELIVERIES)
            except ChannelClosedByBroker as exc:  # pika may raise it when the channel is reused
                ok = fb.expect(False, "", f"RabbitMQ refused: {exc.reply_code} {exc.reply_text}")
        if not ok:
            if any("x-delivery-limit" in line and "classic" in line for line in fb.lines):
                fb.expect(False, "", "Classic queues have no delivery limit: declare the work queue with "
                                     "durable=True and arguments={'x-queue-type': 'quorum', ...}.")
            return fb.result()
        outcome = _exercise(ep, names)
        if isinstance(outcome, str):
            fb.expect(False, "", outcome)
            return fb.result()
        deliveries, parked, left = outcome
        _judge(fb, deliveries, parked, left)
        return fb.result()
    finally:
        cleanup.rabbitmq(ep, names["prefix"])


def _exercise(ep: Endpoints, names: dict[str, str]) -> tuple[Counter, Counter, int] | str:
    good = [f"good-{i}" for i in range(GOOD)]
    poison = [f"poison-{i}" for i in range(POISON)]
    deliveries: Counter = Counter()
    parked: Counter = Counter()
    try:
        with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
            channel = connection.channel()
            channel.confirm_delivery()
            for message_id in [*poison, *good]:
                channel.basic_publish("", names["work"], message_id.encode(),
                                      pika.BasicProperties(message_id=message_id, delivery_mode=2),
                                      mandatory=True)
            channel.basic_qos(prefetch_count=5)

            def on_message(ch: Any, method: Any, properties: Any, _body: bytes) -> None:
                deliveries[properties.message_id] += 1
                if properties.message_id.startswith("poison"):
                    ch.basic_nack(method.delivery_tag, requeue=True)  # "try again later"
                else:
                    ch.basic_ack(method.delivery_tag)

            tag = channel.basic_consume(names["work"], on_message)
            deadline = time.monotonic() + RUN_SECONDS
            seen, quiet_since = 0, time.monotonic()
            while time.monotonic() < deadline:
                connection.process_data_events(time_limit=0.2)
                if sum(deliveries.values()) != seen:
                    seen, quiet_since = sum(deliveries.values()), time.monotonic()
                if all(deliveries[g] for g in good) and (
                        _count(channel, names["dlq"]) >= POISON or time.monotonic() - quiet_since > 1.0):
                    break  # everything parked, or nothing is delivered any more
            channel.basic_cancel(tag)
            connection.process_data_events(time_limit=0.3)  # unacked poison goes back to the queue
            left = _count(channel, names["work"])
            while True:
                method, properties, _body = channel.basic_get(names["dlq"], auto_ack=True)
                if method is None:
                    break
                parked[properties.message_id] += 1
    except pika.exceptions.UnroutableError:
        return (f"Publishing to queue {names['work']!r} came back unroutable: declare the queue named "
                "names['work'].")
    except ChannelClosedByBroker as exc:
        return f"RabbitMQ refused an operation on your queues: {exc.reply_code} {exc.reply_text}."
    except AMQPError as exc:
        return f"RabbitMQ closed the connection: {exc!r}"
    return deliveries, parked, left


def _count(channel: Any, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).method.message_count


def _judge(fb: Feedback, deliveries: Counter, parked: Counter, left: int) -> None:
    good = {k: n for k, n in deliveries.items() if k.startswith("good")}
    poison = {f"poison-{i}": deliveries[f"poison-{i}"] for i in range(POISON)}
    fb.expect(len(good) == GOOD and all(n == 1 for n in good.values()),
              f"All {GOOD} good messages were processed once each.",
              f"Good messages processed: {len(good)} of {GOOD} (counts {sorted(good.values())}). "
              "The poison messages must not keep the good ones from being processed.")
    most = max(poison.values())
    fb.expect(most <= MAX_DELIVERIES,
              f"Each poison message was delivered at most {most} times (limit {MAX_DELIVERIES}).",
              f"A poison message was delivered {most} times in {RUN_SECONDS:.0f} s (allowed: "
              f"{MAX_DELIVERIES})."
              + (" Nothing stops the redelivery loop: 'x-delivery-limit' works on quorum queues only "
                 "(x-queue-type: quorum, durable=True)." if most > 20 else
                 f" x-delivery-limit counts redeliveries: a limit of N allows N + 1 deliveries, so use "
                 f"{MAX_DELIVERIES - 1}."))
    missing = [p for p in poison if not parked[p]]
    vanished = [p for p in missing if 0 < poison[p] <= MAX_DELIVERIES]
    hint = ""
    if vanished and left == 0:
        hint = (" They were delivered, then disappeared: RabbitMQ dead-letters them only when the queue "
                "has 'x-dead-letter-exchange', and that exchange must route them to names['dlq'] "
                "(bind the queue; a fanout exchange ignores routing keys).")
    elif missing:
        hint = (f" {left} message(s) are still in the work queue, going round and round. Give the work "
                "queue 'x-dead-letter-exchange' and a delivery limit.")
    fb.expect(not missing,
              f"Both poison messages are parked in the dead-letter queue "
              f"({sum(parked.values())} message(s)).",
              f"Poison messages not in the dead-letter queue: {', '.join(missing)}." + hint)

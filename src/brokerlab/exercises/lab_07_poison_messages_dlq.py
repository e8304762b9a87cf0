"""Lab 07 exercise: park poison messages in a dead-letter queue after exactly N deliveries.

The learner writes ``setup_queues(channel, names, max_deliveries)``. ``names`` holds
``names["work"]`` (the queue consumers read), ``names["dlx"]`` (a dead-letter exchange) and
``names["dlq"]`` (the queue where poison messages must end up). Each attempt draws its own
scenario from a seed it prints: ``max_deliveries`` (2-5), how many good and poison messages, their
ids. The checker publishes them to ``names["work"]`` (default exchange) and consumes them like a
naive service: it acks good messages and ``basic_nack(requeue=True)`` poison ones, for at most
``RUN_SECONDS``. It passes when every good message was processed once, each poison message was
delivered exactly ``max_deliveries`` times (its full number of tries, no more), and every poison
message sits in ``names["dlq"]``.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pika
from pika.exceptions import AMQPError, ChannelClosedByBroker

from brokerlab import settings
from brokerlab.brokers import cleanup
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.exercises import seeds
from brokerlab.settings import Endpoints, amqp_parameters

EXERCISE = "lab_07_poison_messages_dlq"
RUN_SECONDS = 8.0

CHECKPOINTS = (
    Checkpoint("lab_07_checkpoint_delivery_limit", "A quorum queue has x-delivery-limit: 4 and a "
               "dead-letter exchange. A message fails every time and is nacked with requeue=True. How many "
               "times is it delivered before it is dead-lettered?",
               frozenset({"b", "5"}),
               "The limit counts redeliveries: the first delivery plus 4 redeliveries.",
               "Section 3 used x-delivery-limit: 2: count the deliveries it printed.",
               {"a": "4", "b": "5", "c": "3"}),
)


@dataclass(frozen=True)
class Scenario:
    """One attempt: the delivery budget the learner is given and the messages the checker sends."""

    seed: int
    max_deliveries: int
    good: tuple[str, ...]
    poison: tuple[str, ...]


def new_scenario(seed: int | None = None) -> Scenario:
    """Draw a scenario (printing its seed): 2-5 deliveries, 6-15 good and 1-3 poison messages."""
    seed, rng = seeds.draw(EXERCISE, seed)
    good = tuple(f"good-{seeds.token(rng)}" for _ in range(rng.randint(6, 15)))
    poison = tuple(f"poison-{seeds.token(rng)}" for _ in range(rng.randint(1, 3)))
    return Scenario(seed, rng.randint(2, 5), good, poison)


def new_names(run: str | None = None) -> dict[str, str]:
    """Fresh, namespaced names for one attempt."""
    prefix = settings.ns(f"lab07-ex-{run or uuid.uuid4().hex[:8]}-")
    return {"prefix": prefix, "work": f"{prefix}work", "dlx": f"{prefix}dlx", "dlq": f"{prefix}dlq"}


def check_dead_lettering(setup_queues: Callable[[Any, dict[str, str], int], None],
                         ep: Endpoints | None = None, seed: int | None = None) -> CheckResult:
    """Run the learner's ``setup_queues(channel, names, max_deliveries)`` and a naive consumer on a
    scenario drawn from ``seed`` (fresh when None)."""
    ep = ep or settings.endpoints()
    sc = new_scenario(seed)
    print(f"  max_deliveries={sc.max_deliveries}; {len(sc.good)} good and {len(sc.poison)} poison "
          "message(s)")
    fb = Feedback(EXERCISE)
    names = new_names()
    try:
        with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
            try:
                ok, _ = fb.call(setup_queues, connection.channel(), dict(names), sc.max_deliveries)
            except ChannelClosedByBroker as exc:  # pika may raise it when the channel is reused
                ok = fb.expect(False, "", f"RabbitMQ refused: {exc.reply_code} {exc.reply_text}")
        if not ok:
            if any("x-delivery-limit" in line and "classic" in line for line in fb.lines):
                fb.expect(False, "", "Classic queues have no delivery limit: declare the work queue with "
                                     "durable=True and arguments={'x-queue-type': 'quorum', ...}.")
            return fb.result()
        outcome = _exercise(ep, names, sc)
        if isinstance(outcome, str):
            fb.expect(False, "", outcome)
            return fb.result()
        deliveries, parked, left = outcome
        _judge(fb, sc, deliveries, parked, left)
        return fb.result()
    finally:
        cleanup.rabbitmq(ep, names["prefix"])


def _exercise(ep: Endpoints, names: dict[str, str], sc: Scenario) -> tuple[Counter, Counter, int] | str:
    good, poison = sc.good, sc.poison
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
                if properties.message_id in poison:
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
                        _count(channel, names["dlq"]) >= len(poison) or time.monotonic() - quiet_since > 1.0):
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


def _judge(fb: Feedback, sc: Scenario, deliveries: Counter, parked: Counter, left: int) -> None:
    n = sc.max_deliveries
    good = {k: deliveries[k] for k in sc.good if deliveries[k]}
    poison = {p: deliveries[p] for p in sc.poison}
    fb.expect(len(good) == len(sc.good) and all(c == 1 for c in good.values()),
              f"All {len(sc.good)} good messages were processed once each.",
              f"Good messages processed: {len(good)} of {len(sc.good)} (counts {sorted(good.values())}). "
              "The poison messages must not keep the good ones from being processed.")
    most, fewest = max(poison.values()), min(poison.values())
    if most > n:
        fb.expect(False, "",
                  f"A poison message was delivered {most} times in {RUN_SECONDS:.0f} s, more than the "
                  "max_deliveries you were given."
                  + (" Nothing stops the redelivery loop: 'x-delivery-limit' works on quorum queues only "
                     "(x-queue-type: quorum, durable=True)." if most > 20 else
                     " x-delivery-limit counts redeliveries: a limit of N allows N + 1 deliveries."))
    elif fewest < n:
        fb.expect(False, "",
                  f"A poison message was delivered only {fewest} time(s): fewer tries than the "
                  "max_deliveries you were given, so a message that fails only now and then is parked "
                  "too early. Derive the limit from max_deliveries (a limit of N allows N + 1 "
                  "deliveries).")
    else:
        fb.expect(True, f"Each poison message was delivered exactly {n} times (its full budget).", "")
    missing = [p for p in poison if not parked[p]]
    vanished = [p for p in missing if 0 < poison[p] <= n]
    hint = ""
    if vanished and left == 0:
        hint = (" They were delivered, then disappeared: RabbitMQ dead-letters them only when the queue "
                "has 'x-dead-letter-exchange', and that exchange must route them to names['dlq'] "
                "(bind the queue; a fanout exchange ignores routing keys).")
    elif missing:
        hint = (f" {left} message(s) are still in the work queue, going round and round. Give the work "
                "queue 'x-dead-letter-exchange' and a delivery limit.")
    fb.expect(not missing,
              f"Every poison message is parked in the dead-letter queue ({sum(parked.values())} "
              "message(s)).",
              f"{len(missing)} of {len(poison)} poison message(s) are not in the dead-letter queue." + hint)

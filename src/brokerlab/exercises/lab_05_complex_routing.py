"""Lab 05 exercise: route a given set of messages exactly where a table says, dropping nothing.

The learner writes ``build_routing(channel, names)``. ``names`` holds the names to use:
``names["exchange"]`` (the topic exchange publishers use), ``names["alternate"]`` (an exchange for
whatever matches no binding) and ``names["queues"]`` with the keys of :data:`QUEUE_KEYS`
(``billing``, ``shipping_eu``, ``shipping_us``, ``audit``, ``unrouted``). The table is a set of
rules (:data:`RULES`), not a list of keys: each attempt draws its own routing keys from a seed it
prints (regions, payment events of one to three words, keys that must stay unrouted), so bindings
that list one attempt's keys do not fit the next.

The checker publishes every drawn key once to ``names["exchange"]`` with publisher confirms and
``mandatory=True`` (so a message that reaches no queue comes back), then drains every queue and
compares where each message landed, and how often, with the rules.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pika
from pika.exceptions import AMQPError, ChannelClosedByBroker, NackError, UnroutableError

from brokerlab import settings
from brokerlab.brokers import cleanup
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.exercises import seeds
from brokerlab.settings import Endpoints, amqp_parameters

EXERCISE = "lab_05_complex_routing"
QUEUE_KEYS = ("billing", "shipping_eu", "shipping_us", "audit", "unrouted")
RULES = {  # the table the learner implements, in words
    "billing": "order.created.<region> and order.cancelled.<region>, for any one-word region",
    "shipping_eu": "order.paid.eu",
    "shipping_us": "order.paid.us",
    "audit": "payment. followed by one or more words",
    "unrouted": "anything else",
}
REGIONS = ("eu", "us", "apac", "uk", "latam", "mea", "ca", "jp", "au", "nordics")
PAYMENT_WORDS = ("failed", "card", "declined", "refunded", "retry", "timeout", "fraud", "captured")
OTHER_TOPICS = ("invoice.sent", "shipment.lost", "customer.created", "refund.issued", "cart.abandoned",
                "invoice.overdue.reminder")

CHECKPOINTS = (
    Checkpoint("lab_05_checkpoint_patterns", "Which binding key matches 'payment.failed' and "
               "'payment.card.declined' but not 'payment' alone?",
               frozenset({"c"}),
               "'*' needs exactly one word and '#' zero or more, so 'payment.*.#' needs at least one word "
               "after 'payment'.",
               "'#' may match zero words: try each pattern on the key 'payment' alone.",
               {"a": "payment.*", "b": "payment.#", "c": "payment.*.#"}),
)


def new_routes(seed: int | None = None) -> dict[str, tuple[str, ...]]:
    """Draw one attempt's routing keys (printing the seed): key → the queues it must land in."""
    _seed, rng = seeds.draw(EXERCISE, seed)
    routes: dict[str, tuple[str, ...]] = {"order.paid.eu": ("shipping_eu",),
                                          "order.paid.us": ("shipping_us",)}
    for event in ("created", "cancelled", rng.choice(("created", "cancelled"))):
        routes[f"order.{event}.{rng.choice(REGIONS)}"] = ("billing",)
    for words in (1, rng.randint(2, 3)):
        routes["payment." + ".".join(rng.sample(PAYMENT_WORDS, words))] = ("audit",)
    event, region = rng.choice(("created", "cancelled")), rng.choice(REGIONS)
    extra = rng.choice(("test", "v2"))
    others = [f"order.paid.{rng.choice(REGIONS[2:])}", f"order.{event}.{region}.{extra}",
              rng.choice(OTHER_TOPICS)]
    for key in others:
        routes[key] = ("unrouted",)
    keys = list(routes)
    rng.shuffle(keys)
    return {k: routes[k] for k in keys}


def new_names(run: str | None = None) -> dict[str, Any]:
    """Fresh, namespaced names for one attempt."""
    prefix = settings.ns(f"lab05-ex-{run or uuid.uuid4().hex[:8]}-")
    return {"prefix": prefix, "exchange": f"{prefix}shop", "alternate": f"{prefix}unrouted-x",
            "queues": {key: f"{prefix}{key.replace('_', '-')}" for key in QUEUE_KEYS}}


def publish_and_collect(ep: Endpoints, names: dict[str, Any], routes: dict[str, tuple[str, ...]]
                        ) -> tuple[Counter, list[str], str | None]:
    """Publish every key of ``routes`` (mandatory, confirmed); drain the queues.

    Returns (Counter of (queue key, routing key) copies, keys returned as unroutable, error)."""
    returned: list[str] = []
    with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        for key in routes:
            try:
                channel.basic_publish(names["exchange"], key, key.encode(),
                                      pika.BasicProperties(message_id=key), mandatory=True)
            except UnroutableError:
                returned.append(key)
            except NackError:
                return Counter(), returned, f"the broker refused (nacked) the message {key!r}"
            except ChannelClosedByBroker as exc:
                return Counter(), returned, (f"publishing to exchange {names['exchange']!r} failed: "
                                             f"{exc.reply_code} {exc.reply_text}")
    time.sleep(0.2)
    copies: Counter = Counter()
    with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
        for qkey, queue in names["queues"].items():
            channel = connection.channel()
            try:
                for _ in range(100):
                    method, properties, _body = channel.basic_get(queue, auto_ack=True)
                    if method is None:
                        break
                    copies[(qkey, properties.message_id)] += 1
            except ChannelClosedByBroker as exc:
                return copies, returned, (f"queue {queue!r} ({qkey}) is missing: "
                                          f"{exc.reply_code} {exc.reply_text}")
    return copies, returned, None


def check_exact_routing(build_routing: Callable[[Any, dict[str, Any]], None],
                        ep: Endpoints | None = None, seed: int | None = None) -> CheckResult:
    """Run the learner's ``build_routing(channel, names)`` and judge where each message lands, for
    routing keys drawn from ``seed`` (fresh when None)."""
    ep = ep or settings.endpoints()
    routes = new_routes(seed)
    print(f"  routing keys this attempt: {', '.join(routes)}")
    fb = Feedback(EXERCISE)
    names = new_names()
    try:
        with pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, blocked_timeout=30)) as connection:
            ok, _ = fb.call(build_routing, connection.channel(), names)
        if not ok:
            return fb.result()
        copies, returned, error = publish_and_collect(ep, names, routes)
        if error:
            fb.expect(False, "", f"{error}. Declare every exchange and queue named in `names`.")
            return fb.result()
        _judge(fb, routes, copies, returned)
        return fb.result()
    except AMQPError as exc:
        fb.expect(False, "", f"RabbitMQ closed the connection: {exc!r}")
        return fb.result()
    finally:
        cleanup.rabbitmq(ep, names["prefix"])


def _judge(fb: Feedback, routes: dict[str, tuple[str, ...]], copies: Counter, returned: list[str]) -> None:
    fb.expect(not returned, "No message came back as unroutable: nothing was dropped.",
              f"{len(returned)} message(s) matched no binding and came back as unroutable "
              f"(NO_ROUTE): {', '.join(returned)}. Without `mandatory` they would have been dropped "
              "silently. Declare the exchange with arguments={'alternate-exchange': names['alternate']} "
              "and bind the 'unrouted' queue to that alternate exchange.")
    for key, targets in routes.items():
        if key in returned:
            continue  # reported above
        landed = {q: n for (q, k), n in copies.items() if k == key}
        wrong = sorted(set(landed) - set(targets))
        missing = [q for q in targets if q not in landed]
        twice = sorted(q for q, n in landed.items() if n > 1)
        if not (wrong or missing or twice):
            continue
        problems = []
        if missing:
            problems.append(f"it did not reach {', '.join(missing)}")
        if wrong:
            problems.append(f"it also (wrongly) landed in {', '.join(wrong)}")
        if twice:
            problems.append(f"it landed more than once in {', '.join(twice)}")
        fb.expect(False, "", f"'{key}' should land in {' and '.join(targets)} only: "
                             + "; ".join(problems) + "." + _pattern_hint(key, wrong, missing))
    correct = [key for key, targets in routes.items()
               if key not in returned
               and {q: n for (q, k), n in copies.items() if k == key} == dict.fromkeys(targets, 1)]
    fb.expect(len(correct) == len(routes),
              f"All {len(routes)} messages landed exactly where the table says, once each.",
              f"{len(correct)} of {len(routes)} messages landed exactly where the table says.")


def _pattern_hint(key: str, wrong: list[str], missing: list[str]) -> str:
    """A specific nudge about topic patterns for the usual mistakes."""
    if key.startswith("payment.") and "audit" in missing:
        return (" '*' matches exactly one word, so a pattern with '*' misses payment keys of two or more "
                "words after 'payment.'; '#' matches zero or more words.")
    if "billing" in wrong:
        return (" '#' matches any number of words (zero, one, two…): 'order.#' or 'order.created.#' "
                "also catch keys the table sends elsewhere. Use '*' for exactly one word.")
    if "unrouted" in wrong and not missing:
        return (" The 'unrouted' queue should only get what matches nothing else: bind it to the "
                "alternate exchange, not to the main exchange with '#'.")
    return ""

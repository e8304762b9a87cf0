"""Exercise 03 (notebook 03): route messages to the right queues with a topic exchange.

The learner writes ``declare_routing(channel, exchange, queues)``. Each attempt draws a fresh set of
test routing keys from a seed the checker prints (random services, regions and events, always with
the cases that tell `*` from `#`). The checker gives the function fresh, namespaced queues and an
exchange name, calls it, publishes the keys with publisher confirms and ``mandatory=True``, takes
every message back out of every queue with ``basic_get`` and compares where each one landed with
the rules. It judges the behaviour (where messages went), not the binding strings, and explains
each difference by the shape of the keys (how many words), never by listing what a queue should get.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pika

from brokerlab.brokers.management import Management
from brokerlab.course import checks
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import seeds
from brokerlab.settings import Endpoints, amqp_parameters, endpoints, ns

EXERCISE = "lesson_03_routing"

#: What each queue must receive (the learner's brief, shown in the notebook).
RULES: dict[str, str] = {
    "eu": "every message whose routing key starts with the words `orders.eu` "
          "(any number of words after them)",
    "urgent": "every message whose key has exactly three words, the last one `urgent` "
              "(`<service>.<region>.urgent`)",
    "audit": "every message, whatever its routing key",
}

#: The same rules as predicates on a key's words (the checker's truth; independent of any pattern).
_BELONGS: dict[str, Callable[[list[str]], bool]] = {
    "eu": lambda w: w[:2] == ["orders", "eu"],
    "urgent": lambda w: len(w) == 3 and w[2] == "urgent",
    "audit": lambda w: True,
}

ROLES: tuple[str, ...] = tuple(RULES)
_FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the check again."
_SERVICES = ("payments", "inventory", "billing", "shipping", "search", "users")
_REGIONS = ("us", "apac", "latam", "africa", "de", "fr")
_EVENTS = ("created", "shipped", "cancelled", "paid", "refunded", "updated", "failed")

CHECKPOINTS = (
    Checkpoint(
        "lesson_03_checkpoint_unacked",
        "A consumer with auto_ack=False receives a message, never acks it, and its connection closes. "
        "What happens to the message?",
        frozenset({"b"}),
        "The broker keeps every unacknowledged message and puts it back (ready, redelivered=True) "
        "when the consumer's channel or connection closes.",
        "Look at the (ready, unacked) counts in section 1, before and after the connection closed.",
        {"a": "it is lost: it was delivered", "b": "it returns to the queue, ready for the next consumer",
         "c": "it stays unacked in the broker for ever"}),
    Checkpoint(
        "lesson_03_checkpoint_topic_wildcards",
        "A queue is bound to a topic exchange with `orders.*`. Which of these keys reach it: "
        "`orders`, `orders.eu`, `orders.eu.created`?",
        frozenset({"b"}),
        "`*` matches exactly one word: only `orders.eu`. `orders.#` would match all three.",
        "Count the words after `orders` in each key; how many words does `*` stand for?",
        {"a": "all three", "b": "only orders.eu", "c": "orders.eu and orders.eu.created"}),
)


def scenario(seed: int) -> dict[str, frozenset[str]]:
    """The test routing keys of one attempt, drawn from ``seed``: {key: the roles that must get it}.

    Random words, but always the cases that tell the wildcards apart: an `orders.eu` key of four
    or more words, a four-word key ending in `urgent`, a three-word urgent key of another service,
    a two-word urgent key, a one-word key, and `orders.eu` itself (zero words after the prefix)."""
    rng = random.Random(seed)
    word = rng.choice
    keys = {
        f"orders.eu.{word(_REGIONS)}.{word(_EVENTS)}",            # eu (# needed), not urgent
        f"orders.eu.{word(_REGIONS)}.urgent",                     # eu, four words: not urgent
        f"{word(_SERVICES)}.{word(_REGIONS)}.urgent",             # urgent only
        f"{word(_SERVICES)}.urgent",                              # two words: audit only
        word(_SERVICES),                                          # one word: audit only
        f"orders.{word(_REGIONS)}.{word(_EVENTS)}",               # another region: audit only
    }
    optional = [
        "orders.eu",                                              # # matches zero words
        "orders.eu.urgent",                                       # eu and urgent
        f"orders.eu.{word(_EVENTS)}",                             # eu, three words
        f"orders.{word(_REGIONS)}.urgent",                        # urgent, not eu
        f"eu.orders.{word(_EVENTS)}",                             # the words in the wrong order
        f"{word(_SERVICES)}.{word(_REGIONS)}.{word(_EVENTS)}.urgent",  # four words, `urgent` last
    ]
    keys |= set(rng.sample(optional, rng.randint(3, len(optional))))
    ordered = sorted(keys)
    rng.shuffle(ordered)
    return {k: frozenset(r for r in ROLES if _BELONGS[r](k.split("."))) for k in ordered}



def expected_by_queue(messages: dict[str, frozenset[str]]) -> dict[str, list[str]]:
    """For each queue role, the routing keys it must receive (sorted)."""
    return {role: sorted(k for k, roles in messages.items() if role in roles) for role in ROLES}


def _management(ep: Endpoints, path: str) -> Any:
    """GET from the management API; None on 404, BrokerlabError when it cannot answer."""
    return Management.of(ep).find(path)


def _drain(channel: Any, queue: str, limit: int = 100) -> list[str]:
    """Every message now in ``queue``, taken out with basic_get (bounded), as routing-key strings."""
    bodies: list[str] = []
    for _ in range(limit):
        method, _props, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        bodies.append(body.decode(errors="replace"))
    return bodies


def topic_matches(pattern: str, key: str) -> bool:
    """Whether a topic-exchange binding ``pattern`` matches routing ``key`` (the broker's rule:
    words split on '.', ``*`` is exactly one word, ``#`` is zero or more words)."""
    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and p[0] in ("*", k[0]) and match(p[1:], k[1:])
    return match(pattern.split("."), key.split("."))


def _shape(key: str) -> str:
    """A key described by its shape, not spelled out: '4 words, starting orders.eu'."""
    words = key.split(".")
    start = ".".join(words[:2]) if len(words) > 1 else words[0]
    return f"{len(words)} word{'s' if len(words) > 1 else ''}, starting `{start}`, ending `{words[-1]}`"


def _wildcard_tips(keys: list[str], missing: list[str], extra: list[str]) -> list[str]:
    """Say which of the learner's binding patterns failed on what shape of key, and why."""
    tips: dict[str, str] = {}
    for key in missing:
        for pattern in keys:
            if pattern not in tips and "*" in pattern and topic_matches(pattern.replace("*", "#"), key):
                tips[pattern] = (f"Your pattern {pattern!r} does not match a key of {_shape(key)}: `*` "
                                 "matches exactly one word; `#` matches zero or more words.")
    for key in extra:
        for pattern in keys:
            if pattern not in tips and "#" in pattern and topic_matches(pattern, key):
                tips[pattern] = (f"Your pattern {pattern!r} also matches a key of {_shape(key)}: `#` "
                                 "matches any number of words (even none); `*` matches exactly one.")
    return list(tips.values())


def _queue_line(fb: checks.Feedback, role: str, expected: list[str], got: list[str], keys: list[str],
                topic: bool) -> None:
    """One expectation per queue: exactly the expected messages, with a diagnosis otherwise that
    counts and describes the differences but never lists the keys the queue should have got."""
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    duplicates = sorted({k for k in got if got.count(k) > 1})
    if not (missing or extra or duplicates):
        fb.expect(True, f"queues[{role!r}] received exactly the {len(expected)} messages its rule covers", "")
        return
    parts = [f"queues[{role!r}] ({RULES[role]}):"]
    if missing:
        parts.append(f"missed {len(missing)} message(s) its rule covers "
                     f"(e.g. a key of {_shape(missing[0])}).")
    if extra:
        parts.append(f"received {len(extra)} message(s) its rule does not cover "
                     f"(e.g. a key of {_shape(extra[0])}).")
    if duplicates:
        parts.append(f"received {len(duplicates)} message(s) more than once.")
    if not keys:
        parts.append(f"Nothing is bound to this queue: add channel.queue_bind(queue=queues[{role!r}], "
                     "exchange=exchange, routing_key=...).")
    else:
        parts.append(f"Your binding key(s) for it: {keys}.")
        if not topic:
            parts.append("The exchange is not a topic exchange, so these patterns are not applied: "
                         "fix the exchange type first.")
        else:
            parts.extend(_wildcard_tips(keys, missing, extra))
            if len(keys) > 2 and not any(c in k for k in keys for c in "*#"):
                parts.append("Binding every key you saw one by one cannot work: each check draws new "
                             "keys. Write the rule as a pattern with `*` or `#`.")
    fb.expect(False, "", " ".join(parts))


def check_routing(declare_routing: Callable[[Any, str, dict[str, str]], Any],
                  ep: Endpoints | None = None, seed: int | None = None) -> checks.CheckResult:
    """Run the learner's ``declare_routing`` on fresh queues with a fresh set of routing keys
    (``seed`` replays one) and grade where the messages land. A reference solution's run is never
    recorded as progress."""
    ep = ep or endpoints()
    seed = seeds.announce(EXERCISE, seed)
    messages = scenario(seed)
    print(f"this attempt: {len(messages)} test messages")
    fb = checks.Feedback(EXERCISE)
    prefix = ns(f"ex03-{uuid.uuid4().hex[:8]}-")
    exchange = f"{prefix}orders"
    queues = {role: f"{prefix}q-{role}" for role in ROLES}
    vhost = quote(amqp_parameters(ep.rabbitmq_url).virtual_host, safe="")
    try:
        connection = pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url))
    except pika.exceptions.AMQPError as exc:
        raise BrokerlabError(f"The checker could not connect to RabbitMQ ({exc!r}).", _FIX) from None
    try:
        setup = connection.channel()
        for queue in queues.values():
            setup.queue_declare(queue, exclusive=True)  # gone with this connection, whatever happens

        learner_channel = connection.channel()
        ok, _ = fb.call(declare_routing, learner_channel, exchange, dict(queues))
        if not ok:
            return fb.result()

        info = _management(ep, f"/api/exchanges/{vhost}/{quote(exchange, safe='')}")
        if info is None:
            fb.expect(False, "", f"The exchange {exchange!r} does not exist after your function ran: "
                                 "declare it with channel.exchange_declare(exchange=exchange, "
                                 "exchange_type='topic').")
            return fb.result()
        kind = info.get("type")
        fb.expect(kind == "topic", f"{exchange!r} is a topic exchange",
                  f"{exchange!r} is a {kind!r} exchange. " + (
                      "A fanout exchange ignores routing keys and copies every message to every "
                      "bound queue. " if kind == "fanout" else
                      "A direct exchange compares the whole key; it does not understand `*` or `#`. "
                      if kind == "direct" else "")
                  + "Declare it with exchange_type='topic'.")

        bindings = _management(ep, f"/api/exchanges/{vhost}/{quote(exchange, safe='')}/bindings/source") or []
        keys_by_role = {role: sorted(b["routing_key"] for b in bindings
                                     if b.get("destination_type") == "queue" and b["destination"] == queue)
                        for role, queue in queues.items()}

        publisher = connection.channel()
        publisher.confirm_delivery()  # basic_publish now waits for the broker's ack (or a return)
        unroutable: list[str] = []
        for key in messages:
            try:
                publisher.basic_publish(exchange, key, key.encode(), mandatory=True)
            except pika.exceptions.UnroutableError:
                unroutable.append(key)
        fb.expect(not unroutable, "the broker routed every test message to at least one queue",
                  f"{len(unroutable)} message(s) matched no binding and came back as unroutable "
                  f"(published with mandatory=True), e.g. a key of {_shape(unroutable[0])}."
                  if unroutable else "")

        landed = {role: _drain(setup, queue) for role, queue in queues.items()}
        expected = expected_by_queue(messages)
        for role in ROLES:
            _queue_line(fb, role, expected[role], landed[role], keys_by_role[role], kind == "topic")
        return fb.result()
    finally:
        try:
            if connection.is_open:
                cleanup = connection.channel()
                cleanup.exchange_delete(exchange)  # no error when it does not exist
                for queue in queues.values():
                    cleanup.queue_delete(queue)
        finally:
            if connection.is_open:
                connection.close()

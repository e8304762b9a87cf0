"""Exercise 03 (notebook 03): route messages to the right queues with a topic exchange.

The learner writes ``declare_routing(channel, exchange, queues)``. The checker gives it fresh,
namespaced queues and an exchange name, calls it, publishes a fixed set of test messages with
publisher confirms and ``mandatory=True``, then takes every message back out of every queue with
``basic_get`` and compares where each one landed with where it should have landed. It judges the
behaviour (where messages went), not the binding strings, and explains each difference.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pika
import requests

from brokerlab.course import checks
from brokerlab.errors import BrokerlabError
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

#: The test messages (routing key → the queues it must reach). The body is the routing key.
MESSAGES: dict[str, frozenset[str]] = {
    "orders.eu.created": frozenset({"eu", "audit"}),
    "orders.eu.de.shipped": frozenset({"eu", "audit"}),
    "orders.eu.urgent": frozenset({"eu", "urgent", "audit"}),
    "orders.eu.de.urgent": frozenset({"eu", "audit"}),
    "orders.us.urgent": frozenset({"urgent", "audit"}),
    "payments.eu.urgent": frozenset({"urgent", "audit"}),
    "orders.us.created": frozenset({"audit"}),
    "inventory": frozenset({"audit"}),
}

ROLES: tuple[str, ...] = tuple(RULES)
_FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the check again."


def expected_by_queue() -> dict[str, list[str]]:
    """For each queue role, the routing keys it must receive (sorted)."""
    return {role: sorted(k for k, roles in MESSAGES.items() if role in roles) for role in ROLES}


def _management(ep: Endpoints, path: str) -> Any:
    """GET from the management API; None on 404, BrokerlabError when it cannot answer."""
    url = f"{ep.rabbitmq_management_url}{path}"
    try:
        reply = requests.get(url, auth=ep.management_auth, timeout=5)
    except requests.RequestException as exc:
        raise BrokerlabError(f"The RabbitMQ management API at {ep.rabbitmq_management_url} is not "
                             f"reachable ({type(exc).__name__}).", _FIX) from None
    if reply.status_code == 404:
        return None
    if not reply.ok:
        raise BrokerlabError(f"The management API answered {reply.status_code} for {path}.", _FIX)
    return reply.json()


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


def _wildcard_tips(keys: list[str], missing: list[str], extra: list[str]) -> list[str]:
    """Say which binding pattern failed on which key (one example per pattern), and why."""
    tips: dict[str, str] = {}
    for key in missing:
        for pattern in keys:
            if pattern not in tips and "*" in pattern and topic_matches(pattern.replace("*", "#"), key):
                tips[pattern] = (f"Pattern {pattern!r} does not match {key!r} ({len(key.split('.'))} "
                                 "words): `*` matches exactly one word; `#` matches zero or more words.")
    for key in extra:
        for pattern in keys:
            if pattern not in tips and "#" in pattern and topic_matches(pattern, key):
                tips[pattern] = (f"Pattern {pattern!r} also matches {key!r}: `#` matches any number of "
                                 "words (even none); `*` matches exactly one.")
    return list(tips.values())


def _queue_line(fb: checks.Feedback, role: str, got: list[str], keys: list[str], topic: bool) -> None:
    """One expectation per queue: exactly the expected messages, with a diagnosis otherwise."""
    expected = expected_by_queue()[role]
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    duplicates = sorted({k for k in got if got.count(k) > 1})
    if not (missing or extra or duplicates):
        fb.expect(True, f"queues[{role!r}] received exactly {expected}", "")
        return
    parts = [f"queues[{role!r}] ({RULES[role]}) should receive {expected} but received {sorted(got)}."]
    if missing:
        parts.append(f"Missing: {missing}.")
    if extra:
        parts.append(f"Should not have received: {extra}.")
    if duplicates:
        parts.append(f"Received more than once: {duplicates}.")
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
    fb.expect(False, "", " ".join(parts))


def check_routing(declare_routing: Callable[[Any, str, dict[str, str]], Any],
                  ep: Endpoints | None = None, record: bool = True) -> checks.CheckResult:
    """Run the learner's ``declare_routing`` on fresh queues and grade where the messages land."""
    ep = ep or endpoints()
    fb = checks.Feedback(EXERCISE, record=record)
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
        for key in MESSAGES:
            try:
                publisher.basic_publish(exchange, key, key.encode(), mandatory=True)
            except pika.exceptions.UnroutableError:
                unroutable.append(key)
        fb.expect(not unroutable, "the broker routed every test message to at least one queue",
                  f"{len(unroutable)} message(s) matched no binding and came back as unroutable "
                  f"(published with mandatory=True): {unroutable}.")

        landed = {role: _drain(setup, queue) for role, queue in queues.items()}
        for role in ROLES:
            _queue_line(fb, role, landed[role], keys_by_role[role], kind == "topic")
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

"""Exercise 03 (topic routing): the checker rejects plausible wrong answers with the right hint,
accepts the reference solution, and leaves nothing behind on the live RabbitMQ."""

from __future__ import annotations

import pytest
import requests

import brokerlab
from brokerlab.course import checks
from brokerlab.exercises import lesson_03_routing
from brokerlab.exercises.lesson_03_routing import check_routing, topic_matches

pytestmark = pytest.mark.integration


def _bind(channel, exchange, queues, patterns, exchange_type="topic"):
    channel.exchange_declare(exchange=exchange, exchange_type=exchange_type)
    for role, keys in patterns.items():
        for key in keys:
            channel.queue_bind(queue=queues[role], exchange=exchange, routing_key=key)


def star_where_hash_was_needed(channel, exchange, queues):
    _bind(channel, exchange, queues, {"eu": ["orders.eu.*"], "urgent": ["*.*.urgent"], "audit": ["#"]})


def hash_where_star_was_needed(channel, exchange, queues):
    _bind(channel, exchange, queues, {"eu": ["orders.eu.#"], "urgent": ["#.urgent"], "audit": ["#"]})


def audit_binding_missing(channel, exchange, queues):
    _bind(channel, exchange, queues, {"eu": ["orders.eu.#"], "urgent": ["*.*.urgent"]})


def fanout_instead_of_topic(channel, exchange, queues):
    _bind(channel, exchange, queues, {"eu": ["orders.eu.#"], "urgent": ["*.*.urgent"], "audit": ["#"]},
          exchange_type="fanout")


def exchange_never_declared(channel, exchange, queues):
    pass


def not_attempted(channel, exchange, queues):
    raise NotImplementedError


def _failed_lines(result: checks.CheckResult) -> list[str]:
    return [line for line in result.feedback if line.startswith("✘")]


@pytest.fixture(scope="module")
def ep(brokers: brokerlab.Endpoints) -> brokerlab.Endpoints:
    return brokers


def test_topic_matcher_follows_the_broker_rules():
    assert topic_matches("orders.eu.#", "orders.eu")
    assert topic_matches("orders.eu.#", "orders.eu.de.shipped")
    assert not topic_matches("orders.eu.*", "orders.eu.de.shipped")
    assert topic_matches("#", "inventory")
    assert topic_matches("#.urgent", "orders.eu.de.urgent")
    assert not topic_matches("*.*.urgent", "orders.eu.de.urgent")


def test_reference_solution_passes(ep):
    reference = checks.load_solution("lesson_03_routing")
    result = check_routing(reference.declare_routing, ep)
    assert result.passed, str(result)
    assert len(result.feedback) == 2 + len(lesson_03_routing.ROLES)


def test_rejects_star_where_hash_was_needed(ep):
    result = check_routing(star_where_hash_was_needed, ep)
    assert not result.passed
    failed = _failed_lines(result)
    assert len(failed) == 1, str(result)
    assert "queues['eu']" in failed[0] and "orders.eu.de.shipped" in failed[0]
    assert "Pattern 'orders.eu.*' does not match" in failed[0] and "`#` matches zero or more" in failed[0]


def test_rejects_hash_where_star_was_needed(ep):
    result = check_routing(hash_where_star_was_needed, ep)
    assert not result.passed
    failed = _failed_lines(result)
    assert len(failed) == 1, str(result)
    assert "queues['urgent']" in failed[0]
    assert "Should not have received: ['orders.eu.de.urgent']" in failed[0]
    assert "Pattern '#.urgent' also matches" in failed[0]


def test_rejects_a_missing_binding(ep):
    result = check_routing(audit_binding_missing, ep)
    assert not result.passed
    text = str(result)
    assert "came back as unroutable" in text and "'inventory'" in text and "'orders.us.created'" in text
    assert "Nothing is bound to this queue" in text and "queues['audit']" in text


def test_rejects_fanout_instead_of_topic(ep):
    result = check_routing(fanout_instead_of_topic, ep)
    assert not result.passed
    failed = _failed_lines(result)
    assert "is a 'fanout' exchange" in failed[0] and "exchange_type='topic'" in failed[0]
    assert any("queues['eu']" in line and "'inventory'" in line for line in failed)


def test_rejects_an_undeclared_exchange_and_a_stub(ep):
    missing = check_routing(exchange_never_declared, ep)
    assert not missing.passed and "does not exist after your function ran" in str(missing)
    stub = check_routing(not_attempted, ep)
    assert not stub.passed and "Not attempted yet" in str(stub)


def test_checker_leaves_nothing_behind(ep):
    for answer in (checks.load_solution("lesson_03_routing").declare_routing, fanout_instead_of_topic):
        check_routing(answer, ep)
    prefix = brokerlab.ns("ex03-")
    for kind in ("queues", "exchanges"):
        reply = requests.get(f"{ep.rabbitmq_management_url}/api/{kind}", auth=ep.management_auth, timeout=5)
        reply.raise_for_status()
        left = [item["name"] for item in reply.json() if item["name"].startswith(prefix)]
        assert not left, f"the checker left {kind} behind: {left}"

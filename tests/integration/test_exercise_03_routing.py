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
    assert "queues['eu']" in failed[0] and "missed" in failed[0]
    assert "Your pattern 'orders.eu.*' does not match a key of " in failed[0]
    assert "`#` matches zero or more" in failed[0]


def test_rejects_hash_where_star_was_needed(ep):
    result = check_routing(hash_where_star_was_needed, ep)
    assert not result.passed
    failed = _failed_lines(result)
    assert len(failed) == 1, str(result)
    assert "queues['urgent']" in failed[0] and "does not cover" in failed[0]
    assert "Your pattern '#.urgent' also matches a key of" in failed[0]


def test_rejects_a_missing_binding(ep):
    result = check_routing(audit_binding_missing, ep)
    assert not result.passed
    text = str(result)
    assert "came back as unroutable" in text
    assert "Nothing is bound to this queue" in text and "queues['audit']" in text


def test_rejects_fanout_instead_of_topic(ep):
    result = check_routing(fanout_instead_of_topic, ep)
    assert not result.passed
    failed = _failed_lines(result)
    assert "is a 'fanout' exchange" in failed[0] and "exchange_type='topic'" in failed[0]
    assert any("queues['eu']" in line and "does not cover" in line for line in failed)


def test_rejects_an_undeclared_exchange_and_a_stub(ep):
    missing = check_routing(exchange_never_declared, ep)
    assert not missing.passed and "does not exist after your function ran" in str(missing)
    stub = check_routing(not_attempted, ep)
    assert not stub.passed and "Not attempted yet" in str(stub)


def _binds_literal_keys(messages):
    """An answer that binds the exact keys of one scenario (what a learner could copy from a table)."""
    def declare_routing(channel, exchange, queues):
        channel.exchange_declare(exchange=exchange, exchange_type="topic")
        for role, keys in lesson_03_routing.expected_by_queue(messages).items():
            for key in keys:
                channel.queue_bind(queue=queues[role], exchange=exchange, routing_key=key)
    return declare_routing


def test_literal_keys_pass_their_own_scenario_only(ep):
    answer = _binds_literal_keys(lesson_03_routing.scenario(31))
    assert check_routing(answer, ep, seed=31).passed
    other = check_routing(answer, ep, seed=32)
    assert not other.passed and "each check draws new keys" in str(other), other


def test_a_failing_attempt_prints_no_routing_key_it_expected(ep, capsys):
    messages = lesson_03_routing.scenario(41)
    result = check_routing(audit_binding_missing, ep, seed=41)
    printed = capsys.readouterr().out + str(result)
    assert "seed 41" in printed
    assert not any(key in printed for key in messages if key.count(".") >= 2), printed


def test_rejects_an_answer_that_never_touches_the_broker(ep):
    result = check_routing(lambda channel, exchange, queues: None, ep)
    assert not result.passed and "does not exist after your function ran" in str(result)


def eu_with_two_patterns(channel, exchange, queues):
    """A correct variant: `orders.eu` and `orders.eu.#` both bound (a message still arrives once)."""
    channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
    for key in ("orders.eu", "orders.eu.#"):
        channel.queue_bind(queue=queues["eu"], exchange=exchange, routing_key=key)
    channel.queue_bind(queue=queues["urgent"], exchange=exchange, routing_key="*.*.urgent")
    channel.queue_bind(queue=queues["audit"], exchange=exchange, routing_key="#")
    channel.queue_bind(queue=queues["audit"], exchange=exchange, routing_key="*.*.urgent")


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_accepts_correct_variants_on_any_scenario(ep, seed):
    reference = checks.load_solution("lesson_03_routing")
    for answer in (reference.declare_routing, eu_with_two_patterns):
        result = check_routing(answer, ep, seed=seed)
        assert result.passed, str(result)


def test_checker_leaves_nothing_behind(ep):
    for answer in (checks.load_solution("lesson_03_routing").declare_routing, fanout_instead_of_topic):
        check_routing(answer, ep)
    prefix = brokerlab.ns("ex03-")
    for kind in ("queues", "exchanges"):
        reply = requests.get(f"{ep.rabbitmq_management_url}/api/{kind}", auth=ep.management_auth, timeout=5)
        reply.raise_for_status()
        left = [item["name"] for item in reply.json() if item["name"].startswith(prefix)]
        assert not left, f"the checker left {kind} behind: {left}"


def test_a_function_that_raises_gets_its_error_and_a_hint_not_a_pass(ep):
    def raises(channel, exchange, queues):
        channel.exchange_declare(exchange=exchange, exchange_type="topic")
        raise KeyError("europe")

    result = check_routing(raises, ep)
    assert not result.passed and "raised KeyError: 'europe'" in str(result), str(result)

"""The exercise 04 checker kills the learner's consumer for real: it must catch the classic mistakes."""

from __future__ import annotations

import json

import pytest

from brokerlab.course import checks
from brokerlab.exercises.lesson_04_idempotent_consumer import check_idempotent_consumer

pytestmark = pytest.mark.integration


def _pay(db, properties, body) -> None:
    payment = json.loads(body)
    db.execute("INSERT INTO payments (message_id, account, amount) VALUES (?, ?, ?)",
               (properties.message_id, payment["account"], payment["amount"]))


def ack_before_processing(channel, method, properties, body, db):
    """Idempotent, but acks first: a kill right after the ack loses the payment."""
    channel.basic_ack(delivery_tag=method.delivery_tag)
    with db:
        if db.execute("INSERT OR IGNORE INTO processed (message_id) VALUES (?)",
                      (properties.message_id,)).rowcount:
            _pay(db, properties, body)


def ack_inside_transaction(channel, method, properties, body, db):
    """Acks before the transaction commits: the same loss, harder to spot."""
    with db:
        if db.execute("INSERT OR IGNORE INTO processed (message_id) VALUES (?)",
                      (properties.message_id,)).rowcount:
            _pay(db, properties, body)
        channel.basic_ack(delivery_tag=method.delivery_tag)


def no_dedupe(channel, method, properties, body, db):
    """At-least-once without idempotence: a redelivered payment is paid again."""
    with db:
        _pay(db, properties, body)
    channel.basic_ack(delivery_tag=method.delivery_tag)


seen_in_memory: set[str] = set()


def dedupe_in_memory(channel, method, properties, body, db):
    """Remembers ids in a Python set: the set dies with the process, the duplicate comes back."""
    if properties.message_id not in seen_in_memory:
        with db:
            _pay(db, properties, body)
        seen_in_memory.add(properties.message_id)
    channel.basic_ack(delivery_tag=method.delivery_tag)


def never_acks(channel, method, properties, body, db):
    with db:
        _pay(db, properties, body)


def not_attempted(channel, method, properties, body, db):
    raise NotImplementedError


def crashes(channel, method, properties, body, db):
    return json.loads(body)["no-such-key"]


def _failures(result) -> str:
    return "\n".join(line for line in result.feedback if line.startswith("✘"))


def test_accepts_the_reference_solution(brokers):
    reference = checks.load_solution("lesson_04_idempotent_consumer")
    result = check_idempotent_consumer(reference.handle, ep=brokers)
    assert result.passed, str(result)
    assert any("killed (SIGKILL) twice" in line for line in result.feedback)


@pytest.mark.parametrize("wrong", [ack_before_processing, ack_inside_transaction])
def test_rejects_acking_before_the_payment_is_committed(brokers, wrong):
    result = check_idempotent_consumer(wrong, ep=brokers)
    assert not result.passed
    failures = _failures(result)
    assert "has no payment: your handle acknowledged it" in failures, str(result)
    assert "paid 2 times" not in failures


@pytest.mark.parametrize("wrong", [no_dedupe, dedupe_in_memory])
def test_rejects_a_consumer_that_pays_redeliveries_again(brokers, wrong):
    result = check_idempotent_consumer(wrong, ep=brokers)
    assert not result.passed
    failures = _failures(result)
    assert "was paid 2 times" in failures and "redelivered" in failures, str(result)
    assert "has no payment" not in failures


def test_rejects_a_forgotten_ack(brokers):
    result = check_idempotent_consumer(never_acks, ep=brokers)
    assert not result.passed
    assert "never called channel.basic_ack" in _failures(result), str(result)


def test_not_attempted_and_crashing_answers_get_feedback_not_tracebacks(brokers):
    stub = check_idempotent_consumer(not_attempted, ep=brokers)
    assert not stub.passed and "Not attempted yet" in _failures(stub)
    broken = check_idempotent_consumer(crashes, ep=brokers)
    assert not broken.passed and "KeyError" in _failures(broken), str(broken)

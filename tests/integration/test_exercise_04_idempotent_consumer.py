"""The exercise 04 checker kills the learner's consumer for real: it must catch the classic mistakes."""

from __future__ import annotations

import json

import pytest

from brokerlab.course import checks
from brokerlab.exercises.lesson_04_idempotent_consumer import check_idempotent_consumer, scenario

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


def test_each_attempt_prints_its_seed_and_the_seed_replays_the_scenario(brokers, capsys):
    reference = checks.load_solution("lesson_04_idempotent_consumer")
    result = check_idempotent_consumer(reference.handle, ep=brokers, seed=77)
    payments, plan = scenario(77)
    out = capsys.readouterr().out
    assert result.passed and "scenario seed 77 " in out and f"this attempt: {len(payments)} payments" in out
    assert f"before ack #{plan[0][1]}" in out and f"after ack #{plan[1][1]}" in out


def _pays_with(message_id_of, payment_of):
    """A dedup-and-ack-after consumer whose id or payment comes from somewhere else than the message."""
    def handle(channel, method, properties, body, db):
        message_id = message_id_of(properties)
        with db:
            if db.execute("INSERT OR IGNORE INTO processed (message_id) VALUES (?)", (message_id,)).rowcount:
                account, amount = payment_of(body)
                db.execute("INSERT INTO payments (message_id, account, amount) VALUES (?, ?, ?)",
                           (message_id, account, amount))
        channel.basic_ack(delivery_tag=method.delivery_tag)
    return handle


def test_rejects_payments_taken_from_another_scenario(brokers):
    other, _plan = scenario(1)
    values = iter(list(other.values()) * 3)
    result = check_idempotent_consumer(_pays_with(lambda p: p.message_id, lambda body: next(values)),
                                       ep=brokers, seed=2)
    assert not result.passed and "do not match their messages" in _failures(result), str(result)


def test_rejects_ids_copied_from_a_previous_attempt(brokers):
    earlier, _plan = scenario(3)
    ids = iter(list(earlier) * 3)
    answer = _pays_with(lambda p: next(ids), lambda b: tuple(json.loads(b).values()))
    result = check_idempotent_consumer(answer, ep=brokers, seed=4)
    failures = _failures(result)
    assert not result.passed and ("missing" in failures or "no payment" in failures), str(result)


def dedupe_by_integrity_error(channel, method, properties, body, db):
    """A correct variant: INSERT into processed and catch the PRIMARY KEY violation, commit explicitly."""
    import sqlite3

    payment = json.loads(body)
    try:
        db.execute("INSERT INTO processed (message_id) VALUES (?)", (properties.message_id,))
        db.execute("INSERT INTO payments (message_id, account, amount) VALUES (?, ?, ?)",
                   (properties.message_id, payment["account"], payment["amount"]))
        db.commit()
    except sqlite3.IntegrityError:
        db.rollback()
    channel.basic_ack(delivery_tag=method.delivery_tag)


def test_accepts_a_correct_variant(brokers):
    result = check_idempotent_consumer(dedupe_by_integrity_error, ep=brokers)
    assert result.passed, str(result)

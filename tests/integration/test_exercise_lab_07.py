"""Lab 07 checker: rejects loops, silent drops, an off-by-one limit, a budget from another scenario
and a budget copied from a failed attempt's output; accepts every correct variant."""

import re

import pytest

from brokerlab.course import checks
from brokerlab.exercises import lab_07_poison_messages_dlq as lab07

pytestmark = pytest.mark.integration


def dead_letter_target(channel, names):
    channel.exchange_declare(names["dlx"], "fanout", durable=True)
    channel.queue_declare(names["dlq"], durable=True)
    channel.queue_bind(names["dlq"], names["dlx"], "")


def with_limit(limit):
    """A correct shape with a fixed number written in (ignores max_deliveries)."""
    def setup(channel, names, n):
        dead_letter_target(channel, names)
        channel.queue_declare(names["work"], durable=True, arguments={
            "x-queue-type": "quorum", "x-delivery-limit": limit, "x-dead-letter-exchange": names["dlx"]})
    return setup


def failed(result):
    return "\n".join(line for line in result.feedback if line.startswith("✘"))


def test_each_attempt_draws_another_scenario():
    a, b = lab07.new_scenario(1), lab07.new_scenario(2)
    assert a != b and set(a.poison).isdisjoint(b.poison)
    assert lab07.new_scenario(1) == a


def test_rejects_a_classic_queue_with_only_a_dead_letter_exchange(brokers):
    def classic(channel, names, n):
        dead_letter_target(channel, names)
        channel.queue_declare(names["work"], durable=True, arguments={"x-dead-letter-exchange": names["dlx"]})
    result = lab07.check_dead_lettering(classic, brokers)
    assert not result.passed
    assert "Nothing stops the redelivery loop" in failed(result) and "quorum" in failed(result), result


def test_rejects_a_delivery_limit_on_a_classic_queue(brokers):
    def classic_limit(channel, names, n):
        dead_letter_target(channel, names)
        channel.queue_declare(names["work"], durable=True,
                              arguments={"x-delivery-limit": n - 1, "x-dead-letter-exchange": names["dlx"]})
    result = lab07.check_dead_lettering(classic_limit, brokers)
    assert not result.passed and "Classic queues have no delivery limit" in failed(result), result


def test_rejects_a_limit_without_dead_letter_exchange(brokers):
    def no_dlx(channel, names, n):
        dead_letter_target(channel, names)
        channel.queue_declare(names["work"], durable=True,
                              arguments={"x-queue-type": "quorum", "x-delivery-limit": n - 1})
    result = lab07.check_dead_lettering(no_dlx, brokers)
    assert not result.passed
    assert "disappeared" in failed(result) and "x-dead-letter-exchange" in failed(result), result


def test_rejects_an_off_by_one_limit(brokers):
    def off_by_one(channel, names, n):
        with_limit(n)(channel, names, n)
    result = lab07.check_dead_lettering(off_by_one, brokers, seed=3)
    assert not result.passed
    assert "more than the max_deliveries" in failed(result) and "N + 1 deliveries" in failed(result), result


def test_rejects_the_budget_of_another_scenario(brokers):
    other = lab07.new_scenario(4)
    this = next(s for s in range(5, 100) if lab07.new_scenario(s).max_deliveries != other.max_deliveries)
    result = lab07.check_dead_lettering(with_limit(other.max_deliveries - 1), brokers, seed=this)
    assert not result.passed, result


def test_rejects_a_budget_copied_from_a_failed_attempt(brokers, capsys):
    first = lab07.check_dead_lettering(lambda ch, names, n: None, brokers, seed=6)
    assert not first.passed
    copied = int(re.search(r"max_deliveries=(\d+)", capsys.readouterr().out).group(1))
    assert lab07.new_scenario(7).max_deliveries != copied
    second = lab07.check_dead_lettering(with_limit(copied - 1), brokers, seed=7)
    assert not second.passed, second


def test_accepts_the_reference_and_a_direct_exchange(brokers):
    reference = checks.load_solution("lab_07_poison_messages_dlq")
    for seed in (8, 9):
        result = lab07.check_dead_lettering(reference.setup_queues, brokers, seed=seed)
        assert result.passed, result

    def direct(channel, names, n):
        channel.exchange_declare(names["dlx"], "direct", durable=True)
        channel.queue_declare(names["dlq"], durable=True)
        channel.queue_bind(names["dlq"], names["dlx"], names["work"])  # dead letters keep their key
        channel.queue_declare(names["work"], durable=True, arguments={
            "x-queue-type": "quorum", "x-delivery-limit": n - 1, "x-dead-letter-exchange": names["dlx"]})
    result = lab07.check_dead_lettering(direct, brokers, seed=10)
    assert result.passed, result

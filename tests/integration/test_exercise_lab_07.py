"""Lab 07 checker: rejects loops, silent drops and an off-by-one limit; accepts the reference."""

import pytest

from brokerlab.course import checks
from brokerlab.exercises import lab_07_poison_messages_dlq as lab07

pytestmark = pytest.mark.integration


def dead_letter_target(channel, names):
    channel.exchange_declare(names["dlx"], "fanout", durable=True)
    channel.queue_declare(names["dlq"], durable=True)
    channel.queue_bind(names["dlq"], names["dlx"], "")


def failed(result):
    return "\n".join(line for line in result.feedback if line.startswith("✘"))


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
        dead_letter_target(channel, names)
        channel.queue_declare(names["work"], durable=True, arguments={
            "x-queue-type": "quorum", "x-delivery-limit": n, "x-dead-letter-exchange": names["dlx"]})
    result = lab07.check_dead_lettering(off_by_one, brokers)
    assert not result.passed
    assert "delivered 4 times" in failed(result) and "N + 1 deliveries" in failed(result), result


def test_accepts_the_reference(brokers):
    reference = checks.load_solution("lab_07_poison_messages_dlq")
    result = lab07.check_dead_lettering(reference.setup_queues, brokers)
    assert result.passed, result

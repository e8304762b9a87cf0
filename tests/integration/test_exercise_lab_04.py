"""Lab 04 checker: rejects unbounded, silently dropping and unlimited-prefetch setups; accepts the
reference."""

import pytest

from brokerlab.course import checks
from brokerlab.exercises import lab_04_queue_explosion as lab04

pytestmark = pytest.mark.integration


def unbounded(channel, queue):
    """Prefetch alone: the consumer is protected, the queue is not."""
    channel.queue_declare(queue)
    channel.basic_qos(prefetch_count=10)


def drop_head(channel, queue):
    """A bound with the default overflow: confirmed messages are dropped silently."""
    channel.queue_declare(queue, arguments={"x-max-length": 100})
    channel.basic_qos(prefetch_count=10)


def no_prefetch(channel, queue):
    """A bounded queue, but the consumer takes everything: the messages pile up as unacked."""
    channel.queue_declare(queue, arguments={"x-max-length": 100, "x-overflow": "reject-publish"})


def not_attempted(channel, queue):
    raise NotImplementedError


def failed(result):
    return [line for line in result.feedback if line.startswith("✘")]


def test_rejects_an_unbounded_queue(brokers):
    result = lab04.check_bounded_queue(unbounded, brokers)
    assert not result.passed
    assert any("ready messages" in line and "x-max-length" in line for line in failed(result)), result


def test_rejects_drop_head(brokers):
    result = lab04.check_bounded_queue(drop_head, brokers)
    assert not result.passed
    assert any("CONFIRMED" in line and "drop-head" in line for line in failed(result)), result


def test_rejects_unlimited_prefetch(brokers):
    result = lab04.check_bounded_queue(no_prefetch, brokers)
    assert not result.passed
    assert any("prefetch_count is 0" in line and "basic_qos" in line for line in failed(result)), result


def test_not_attempted_is_a_hint_not_a_traceback(brokers):
    result = lab04.check_bounded_queue(not_attempted, brokers)
    assert not result.passed and "Not attempted" in result.feedback[0]


def test_accepts_the_reference(brokers):
    reference = checks.load_solution("lab_04_queue_explosion")
    result = lab04.check_bounded_queue(reference.prepare_consumer, brokers)
    assert result.passed, result

"""Lab 04 checker: rejects unbounded, silently dropping, unlimited-prefetch and other-scenario
setups; rejects numbers copied from a failed attempt's output; accepts every correct variant."""

import re

import pytest

from brokerlab.course import checks
from brokerlab.exercises import lab_04_queue_explosion as lab04

pytestmark = pytest.mark.integration


def unbounded(channel, queue, max_ready, max_prefetch):
    """Prefetch alone: the consumer is protected, the queue is not."""
    channel.queue_declare(queue)
    channel.basic_qos(prefetch_count=max_prefetch)


def drop_head(channel, queue, max_ready, max_prefetch):
    """A bound with the default overflow: confirmed messages are dropped silently."""
    channel.queue_declare(queue, arguments={"x-max-length": max_ready})
    channel.basic_qos(prefetch_count=max_prefetch)


def no_prefetch(channel, queue, max_ready, max_prefetch):
    """A bounded queue, but the consumer takes everything: the messages pile up as unacked."""
    channel.queue_declare(queue, arguments={"x-max-length": max_ready, "x-overflow": "reject-publish"})


def fixed(bound, prefetch):
    """An answer with the numbers of one scenario written in (ignores the arguments)."""
    def prepare(channel, queue, _max_ready, _max_prefetch):
        channel.queue_declare(queue, arguments={"x-max-length": bound, "x-overflow": "reject-publish"})
        channel.basic_qos(prefetch_count=prefetch)
    return prepare


def not_attempted(channel, queue, max_ready, max_prefetch):
    raise NotImplementedError


def failed(result):
    return [line for line in result.feedback if line.startswith("✘")]


def test_each_attempt_draws_another_scenario():
    a, b = lab04.new_scenario(1), lab04.new_scenario(2)
    assert (a.max_ready, a.max_prefetch, a.messages) != (b.max_ready, b.max_prefetch, b.messages)
    assert lab04.new_scenario(1) == a  # a seed replays its scenario


def test_rejects_an_unbounded_queue(brokers):
    result = lab04.check_bounded_queue(unbounded, brokers, seed=11)
    assert not result.passed
    assert any("ready messages" in line and "x-max-length" in line for line in failed(result)), result


def test_rejects_drop_head(brokers):
    result = lab04.check_bounded_queue(drop_head, brokers, seed=12)
    assert not result.passed
    assert any("CONFIRMED" in line and "drop-head" in line for line in failed(result)), result


def test_rejects_unlimited_prefetch(brokers):
    result = lab04.check_bounded_queue(no_prefetch, brokers, seed=13)
    assert not result.passed
    assert any("prefetch_count is 0" in line and "basic_qos" in line for line in failed(result)), result


def test_rejects_the_answer_for_another_scenario(brokers):
    other = lab04.new_scenario(14)
    this = next(s for s in range(15, 100) if lab04.new_scenario(s).max_ready != other.max_ready)
    result = lab04.check_bounded_queue(fixed(other.max_ready, other.max_prefetch), brokers, seed=this)
    assert not result.passed, result


def test_rejects_numbers_copied_from_a_failed_attempt(brokers, capsys):
    first = lab04.check_bounded_queue(unbounded, brokers, seed=16)
    assert not first.passed
    printed = capsys.readouterr().out + str(first)
    bound = int(re.search(r"max_ready=(\d+)", printed).group(1))
    prefetch = int(re.search(r"max_prefetch=(\d+)", printed).group(1))
    assert lab04.new_scenario(17).max_ready != bound
    second = lab04.check_bounded_queue(fixed(bound, prefetch), brokers, seed=17)
    assert not second.passed, second


def test_not_attempted_is_a_hint_not_a_traceback(brokers):
    result = lab04.check_bounded_queue(not_attempted, brokers)
    assert not result.passed and "Not attempted" in result.feedback[0]


def test_accepts_the_reference_and_a_smaller_prefetch(brokers):
    reference = checks.load_solution("lab_04_queue_explosion")
    for seed in (18, 19):
        result = lab04.check_bounded_queue(reference.prepare_consumer, brokers, seed=seed)
        assert result.passed, result

    def prefetch_one(channel, queue, max_ready, max_prefetch):
        channel.queue_declare(queue, arguments={"x-overflow": "reject-publish", "x-max-length": max_ready})
        channel.basic_qos(prefetch_count=1)
    result = lab04.check_bounded_queue(prefetch_one, brokers, seed=20)
    assert result.passed, result

"""Notebook 06's produce_all checker, on the live Kafka: each attempt draws a fresh scenario, wrong
answers get their hint (never the expected count), answers that dodge the full local queue or skip
the broker are rejected, and every correct variant passes."""

import pytest
from confluent_kafka import Producer

from brokerlab.course import checks
from brokerlab.exercises import lesson_06_produce_all as ex

pytestmark = pytest.mark.integration


def ignores_buffer_error(producer, topic, payloads):
    """The article's style: produce in a loop, flush at the end."""
    for p in payloads:
        producer.produce(topic, p)
    producer.flush(30)
    return len(payloads)


def forgets_flush(producer, topic, payloads):
    """Counts delivery reports, but returns before they come back."""
    acked = []
    for p in payloads[:20]:  # fewer than any scenario's local queue holds, all still in flight
        producer.produce(topic, p, on_delivery=lambda err, _m: acked.append(err is None))
    return sum(acked)


def drops_on_buffer_error(producer, topic, payloads):
    """Catches BufferError but moves on to the next payload: the refused one is lost."""
    for p in payloads:
        try:
            producer.produce(topic, p)
        except BufferError:
            producer.poll(0.1)
    producer.flush(30)
    return len(payloads)


def returns_nothing(producer, topic, payloads):
    """Right work, no return value."""
    for p in payloads:
        while True:
            try:
                producer.produce(topic, p)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(30)


def own_big_producer(brokers):
    """Dodges the exercise: its own producer with a huge local queue, so BufferError never comes."""
    def produce_all(_producer, topic, payloads):
        mine = Producer(brokers.kafka_config(**{"queue.buffering.max.messages": 1_000_000}))
        acked = []
        for p in payloads:
            mine.produce(topic, p, on_delivery=lambda err, _m: acked.append(err is None))
        mine.flush(30)
        return sum(acked)
    return produce_all


def waits_after_each(producer, topic, payloads):
    """Never lets the queue fill: a flush() after every message (one round trip each)."""
    acked = []
    for p in payloads:
        producer.produce(topic, p, on_delivery=lambda err, _m: acked.append(err is None))
        producer.flush(10)
    return sum(acked)


def without_the_broker(producer, topic, payloads):
    """Returns the count it was given, without producing anything."""
    return len(payloads)


def poll_variant(producer, topic, payloads):
    """Correct in another style: flush() on BufferError, count with a list, no poll(0) per message."""
    acked = []
    i = 0
    while i < len(payloads):
        try:
            producer.produce(topic, payloads[i], callback=lambda err, _m: acked.append(err is None))
            i += 1
        except BufferError:
            producer.flush(1)
    while producer.flush(5):
        pass
    return sum(acked)


def test_each_attempt_draws_a_fresh_scenario_from_a_printed_seed(brokers, capsys):
    a, b = ex.scenario(11), ex.scenario(12)
    assert a != b and a.payloads() != b.payloads() and ex.scenario(11) == a
    assert ex.scenario() != ex.scenario() or ex.scenario() != ex.scenario()
    ex.check_produce_all(without_the_broker, brokers, seed=11)
    assert str(a) in capsys.readouterr().out


def test_ignoring_buffer_error_gets_the_buffer_error_hint(brokers):
    result = ex.check_produce_all(ignores_buffer_error, brokers)
    assert not result.passed
    assert any("BufferError" in line and "poll" in line for line in result.feedback), result


def test_forgetting_flush_gets_the_flush_hint(brokers):
    result = ex.check_produce_all(forgets_flush, brokers)
    assert not result.passed
    assert any("flush()" in line for line in result.feedback), result


def test_dropping_refused_payloads_gets_the_retry_hint(brokers):
    result = ex.check_produce_all(drops_on_buffer_error, brokers)
    assert not result.passed
    assert any("never reached the topic" in line and "retry the same payload" in line
               for line in result.feedback), result
    assert any("You returned" in line for line in result.feedback), result


def test_no_return_value_gets_the_count_hint(brokers):
    s = ex.scenario(5)
    result = ex.check_produce_all(returns_nothing, brokers, seed=5)
    assert not result.passed
    assert any("Return the number of acknowledged messages" in line for line in result.feedback), result
    assert any(f"All {s.count} payloads are in the topic" in line for line in result.feedback), result


def test_a_bigger_queue_of_its_own_is_rejected(brokers):
    result = ex.check_produce_all(own_big_producer(brokers), brokers)
    assert not result.passed
    assert any("never filled" in line for line in result.feedback), result


def test_never_letting_the_queue_fill_is_rejected(brokers):
    result = ex.check_produce_all(waits_after_each, brokers, seed=3)
    assert not result.passed
    assert any("never filled" in line for line in result.feedback), result


def test_an_answer_built_without_the_broker_is_rejected(brokers):
    result = ex.check_produce_all(without_the_broker, brokers)
    assert not result.passed and any("topic is empty" in line for line in result.feedback), result


def test_the_count_of_a_previous_scenario_is_rejected_and_never_printed(brokers):
    first, second = ex.scenario(21), ex.scenario(22)
    assert first.count != second.count
    dropped = ex.check_produce_all(drops_on_buffer_error, brokers, seed=21)
    assert not dropped.passed
    assert not any(f"{first.count} messages were acknowledged" in line for line in dropped.feedback)

    def literal(producer, topic, payloads):
        returns_nothing(producer, topic, payloads)
        return first.count  # the right answer for the first scenario

    result = ex.check_produce_all(literal, brokers, seed=22)
    assert not result.passed and any("You returned" in line for line in result.feedback), result


def test_unattempted_stub_is_not_a_crash(brokers):
    def stub(producer, topic, payloads):
        raise NotImplementedError

    result = ex.check_produce_all(stub, brokers)
    assert not result.passed and "Not attempted yet" in result.feedback[0]


def test_a_function_that_raises_gets_the_last_line_and_a_hint(brokers):
    def crashes(producer, topic, payloads):
        return int(payloads[0])  # ValueError: bytes are not a number

    result = ex.check_produce_all(crashes, brokers)
    assert not result.passed and "Your function raised" in result.feedback[0], result


@pytest.mark.parametrize("seed", [1, 2])
def test_correct_variants_pass(brokers, seed):
    reference = checks.load_solution("lesson_06_produce_all")
    assert ex.check_produce_all(reference.produce_all, brokers, seed=seed).passed
    assert ex.EXERCISE not in checks.progress(), "a reference run must not count as the learner's"
    assert ex.check_produce_all(poll_variant, brokers, seed=seed + 10).passed
    assert checks.progress()[ex.EXERCISE]["passed"] is True

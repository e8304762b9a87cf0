"""Notebook 06's produce_all checker rejects plausible wrong answers with the right hint and
accepts the reference solution, on the live Kafka."""

import pytest
from confluent_kafka import Producer

from brokerlab.course import checks
from brokerlab.exercises import lesson_06_produce_all

pytestmark = pytest.mark.integration


def ignores_buffer_error(config, topic, payloads):
    """The article's style: produce in a loop, flush at the end."""
    producer = Producer(config)
    for p in payloads:
        producer.produce(topic, p)
    producer.flush(30)
    return len(payloads)


def forgets_flush(config, topic, payloads):
    """Handles BufferError, counts delivery reports, but returns before they all came back."""
    producer = Producer(config)
    acked = []
    for p in payloads[:50]:  # few enough to stay under the local queue, all still in flight
        producer.produce(topic, p, on_delivery=lambda err, _m: acked.append(err is None))
    return sum(acked)


def drops_on_buffer_error(config, topic, payloads):
    """Catches BufferError but moves on to the next payload: the refused one is lost."""
    producer = Producer(config)
    for p in payloads:
        try:
            producer.produce(topic, p)
        except BufferError:
            producer.poll(0.1)
    producer.flush(30)
    return len(payloads)


def returns_nothing(config, topic, payloads):
    """Right work, no return value."""
    producer = Producer(config)
    for p in payloads:
        while True:
            try:
                producer.produce(topic, p)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(30)


def test_ignoring_buffer_error_gets_the_buffer_error_hint(brokers):
    result = lesson_06_produce_all.check_produce_all(ignores_buffer_error, brokers)
    assert not result.passed
    assert any("BufferError" in line and "poll" in line for line in result.feedback), result


def test_forgetting_flush_gets_the_flush_hint(brokers):
    result = lesson_06_produce_all.check_produce_all(forgets_flush, brokers)
    assert not result.passed
    assert any("flush()" in line for line in result.feedback), result


def test_dropping_refused_payloads_gets_the_retry_hint(brokers):
    result = lesson_06_produce_all.check_produce_all(drops_on_buffer_error, brokers)
    assert not result.passed
    assert any("never reached the topic" in line and "retry the same payload" in line
               for line in result.feedback), result
    assert any("You returned" in line for line in result.feedback), result


def test_no_return_value_gets_the_count_hint(brokers):
    result = lesson_06_produce_all.check_produce_all(returns_nothing, brokers)
    assert not result.passed
    assert any("Return the number of acknowledged messages" in line for line in result.feedback), result
    assert any("All 2000 payloads are in the topic" in line for line in result.feedback), result


def test_unattempted_stub_is_not_a_crash(brokers):
    def stub(config, topic, payloads):
        raise NotImplementedError

    result = lesson_06_produce_all.check_produce_all(stub, brokers)
    assert not result.passed and "Not attempted yet" in result.feedback[0]


def test_reference_solution_passes(brokers):
    reference = checks.load_solution("lesson_06_produce_all")
    result = lesson_06_produce_all.check_produce_all(reference.produce_all, brokers)
    assert result.passed, result

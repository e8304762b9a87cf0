"""Lab 01 checker: the learner's consumer runs against the broker, which measures its lag. Rejects a
member that never commits, one that never closes, one that never reads Kafka, one that stops early,
one that raises; accepts the reference and other correct variants (auto-commit + close, consume()
batches with a commit per batch)."""

import pytest
from confluent_kafka import Consumer

from brokerlab.course import checks
from brokerlab.exercises import lab_01_consumer_lag as lab01

pytestmark = pytest.mark.integration
SEED = 101


def handle_all(consumer, topic, handle, stop):
    """Subscribe and hand every record to handle() until stop; no commit of its own; close."""
    consumer.subscribe([topic])
    try:
        while not stop.is_set():
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                handle(msg)
    finally:
        consumer.close()


def never_commits(config, topic, handle, stop):
    consumer = Consumer({**config, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    handle_all(consumer, topic, handle, stop)


KEPT = []  # a service object that outlives the loop keeps its consumer (Python would close it on collection)


def never_closes(config, topic, handle, stop):
    consumer = Consumer({**config, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    KEPT.append(consumer)
    consumer.subscribe([topic])
    while not stop.is_set():
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            handle(msg)
            consumer.commit(message=msg, asynchronous=False)


def without_kafka(config, topic, handle, stop):
    """Built without touching the broker: invented records."""
    for i in range(100):
        handle(f"record-{i}".encode())


def auto_commit_and_close(config, topic, handle, stop):
    """Correct variant: auto-commit on (the default), and close() commits the last offsets."""
    handle_all(Consumer({**config, "auto.offset.reset": "earliest"}), topic, handle, stop)


def batches(config, topic, handle, stop):
    consumer = Consumer({**config, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    try:
        while not stop.is_set():
            batch = [m for m in consumer.consume(num_messages=20, timeout=0.5) if m.error() is None]
            for msg in batch:
                handle(msg)
            if batch:
                consumer.commit(asynchronous=False)
    finally:
        consumer.close()


def raises(config, topic, handle, stop):
    Consumer({**config, "auto.offset.reset": "sometimes"})


def not_attempted(*_args):
    raise NotImplementedError


def failed(result):
    return "\n".join(line for line in result.feedback if line.startswith("✘"))


def test_rejects_a_member_that_never_commits(brokers):
    result = lab01.check_drain(never_commits, brokers, seed=SEED)
    assert not result.passed and "still reports a lag" in failed(result), result


def test_rejects_a_member_that_never_closes(brokers):
    try:
        result = lab01.check_drain(never_closes, brokers, seed=SEED)
    finally:
        for consumer in KEPT:
            consumer.close()
        KEPT.clear()
    assert not result.passed and "close()" in failed(result), result


def test_rejects_records_invented_without_the_broker(brokers):
    result = lab01.check_drain(without_kafka, brokers)
    assert not result.passed and "distinct records" in failed(result), result


def test_a_function_that_raises_gets_its_last_line_and_a_hint(brokers):
    result = lab01.check_drain(raises, brokers)
    assert not result.passed and "KafkaException" in failed(result) and "auto.offset.reset" in failed(result)


def test_not_attempted_is_a_hint_not_a_traceback(brokers):
    result = lab01.check_drain(not_attempted, brokers)
    assert not result.passed and "Not attempted" in failed(result)


@pytest.mark.parametrize("variant", [auto_commit_and_close, batches])
def test_accepts_correct_variants(brokers, variant):
    result = lab01.check_drain(variant, brokers)
    assert result.passed, result


def test_accepts_the_reference(brokers):
    reference = checks.load_solution("lab_01_consumer_lag")
    result = lab01.check_drain(reference.drain, brokers)
    assert result.passed, result

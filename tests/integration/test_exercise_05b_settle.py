"""Lesson 05b's share-group checker rejects plausible wrong ways to settle a record, with the right
hint, and accepts the reference solution, on the live Kafka (a fresh topic and group per attempt)."""

import contextlib

import pytest
from confluent_kafka import AcknowledgeType

from brokerlab.course import checks
from brokerlab.exercises import lesson_05b_settle as exercise

pytestmark = pytest.mark.integration


def settle_errors_with(ack_type):
    """Accepts what worked and settles every failure the same way, whatever the error."""
    def handle(consumer, msg, process):
        try:
            process(msg.value())
        except Exception:
            consumer.acknowledge(msg, ack_type)
        else:
            consumer.acknowledge(msg)
    return handle


release_on_any_error = settle_errors_with(AcknowledgeType.RELEASE)  # retries a record that never parses
reject_on_any_error = settle_errors_with(AcknowledgeType.REJECT)  # loses the flaky records' work


def accept_always(consumer, msg, process):
    """Swallows every error and accepts: failures are lost silently."""
    with contextlib.suppress(Exception):
        process(msg.value())
    consumer.acknowledge(msg)


def release_everything(consumer, msg, process):
    """Never accepts: every record comes back until the delivery limit."""
    with contextlib.suppress(Exception):
        process(msg.value())
    consumer.acknowledge(msg, AcknowledgeType.RELEASE)


def never_acknowledges(consumer, msg, process):
    """Processes but forgets to acknowledge: the next poll refuses."""
    with contextlib.suppress(Exception):
        process(msg.value())


def not_attempted(consumer, msg, process):
    raise NotImplementedError


@pytest.mark.parametrize("wrong, words", [
    (release_on_any_error, "REJECT it on MalformedRecord"),
    (reject_on_any_error, "RELEASE the record"),
    (accept_always, "RELEASE the record"),
    (release_everything, "good records came back"),
    (never_acknowledges, "must be acknowledged before the next poll"),
    (not_attempted, "Not attempted"),
])
def test_wrong_answers_are_rejected_with_the_right_hint(brokers, wrong, words) -> None:
    result = exercise.check_handle(wrong, brokers, record=False)
    assert not result.passed
    assert words in str(result), str(result)


def test_the_reference_solution_passes(brokers) -> None:
    reference = checks.load_solution("lesson_05b_settle")
    result = exercise.check_handle(reference.handle, brokers, record=False)
    assert result.passed, str(result)

"""Lab 03 checker on the real 3-node cluster (it kills the partition leader in every run): rejects
acks=1, a delivery timeout shorter than an election, acks=all without idempotence, and settings
whose producer dies doing no work; accepts the reference and idempotence alone (acks=all follows)."""

import pytest

from brokerlab.course import checks
from brokerlab.exercises import lab_03_acks_and_replication as lab03

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


def failed(result):
    return "\n".join(line for line in result.feedback if line.startswith("✘"))


def test_rejects_acks_1(lab):
    result = lab03.check_reliable_producer(lambda: {"acks": "1"}, lab)
    assert not result.passed
    assert "acks=1: the leader acknowledges as soon as IT has the record" in failed(result), result
    assert not lab.unhealthy(), "the checker restarts the broker it killed"


def test_rejects_a_delivery_timeout_shorter_than_an_election(lab):
    conf = {"acks": "all", "enable.idempotence": True, "delivery.timeout.ms": 1000}
    result = lab03.check_reliable_producer(lambda: conf, lab)
    assert not result.passed
    text = failed(result)
    assert "delivery.timeout.ms=1000" in text, result
    assert "deliveries failed" in text and "_MSG_TIMED_OUT" in text, result  # live: it gave up


def test_rejects_acks_all_without_idempotence(lab):
    result = lab03.check_reliable_producer(lambda: {"acks": "all"}, lab)
    assert not result.passed
    assert "enable.idempotence is not true" in failed(result), result
    assert any("acknowledged records are in the partition" in line for line in result.feedback), result


def test_refused_settings_are_a_hint(lab):
    result = lab03.check_reliable_producer(lambda: {"acks": "1", "enable.idempotence": True}, lab)
    assert not result.passed and "refused your settings" in failed(result), result


def test_not_attempted_is_a_hint_not_a_traceback():
    def not_attempted():
        raise NotImplementedError
    result = lab03.check_reliable_producer(not_attempted)
    assert not result.passed and "Not attempted" in result.feedback[0]


def test_accepts_the_reference(lab):
    reference = checks.load_solution("lab_03_acks_and_replication")
    result = lab03.check_reliable_producer(reference.reliable_producer_config, lab)
    assert result.passed, result


def test_accepts_idempotence_alone(lab):
    """librdkafka sets acks=all itself when enable.idempotence is on and acks is not given."""
    result = lab03.check_reliable_producer(lambda: {"enable.idempotence": True}, lab)
    assert result.passed, result
    assert any("enable.idempotence=true makes the producer use acks=all" in line for line in result.feedback)


def test_rejects_a_producer_that_dies_without_doing_the_work(lab):
    """transactional.id without a transaction: produce() raises, the thread dies with 0 sent."""
    conf = {"acks": "all", "enable.idempotence": True, "transactional.id": "lab03-no-transaction"}
    result = lab03.check_reliable_producer(lambda: conf, lab)
    assert not result.passed
    text = failed(result)
    assert "The producer thread died after 0 records" in text and "transactional.id" in text, result
    assert not any("acknowledged records are in the partition" in line for line in result.feedback)

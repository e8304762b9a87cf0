"""The verdict rules of notebooks 03, 04 and 05: each outcome a run can measure gives its verdict."""

from __future__ import annotations

import pytest

from brokerlab.course import rules

CASES = {
    "rabbitmq-consumer-snippet": [
        ({"snippet_callbacks": 0, "returned_after_close": True, "acked_and_gone": True}, "refuted"),
        ({"snippet_callbacks": 1, "returned_after_close": True, "acked_and_gone": True}, "half-true"),
        ({"snippet_callbacks": 1, "returned_after_close": False, "acked_and_gone": True}, "confirmed"),
        ({"snippet_callbacks": 1, "returned_after_close": False, "acked_and_gone": False}, "depends"),
    ],
    "protocols": [
        ({"mqtt_arrived": True, "stomp_arrived": True}, "confirmed"),
        ({"mqtt_arrived": True, "stomp_arrived": False}, "half-true"),
        ({"mqtt_arrived": False, "stomp_arrived": True}, "half-true"),
        ({"mqtt_arrived": False, "stomp_arrived": False}, "refuted"),
    ],
    "delivery-guarantees": [
        ({"kafka_lost": 1, "rabbit_lost": 7}, "half-true"),
        ({"kafka_lost": 0, "rabbit_lost": 0}, "confirmed"),
        ({"kafka_lost": 1, "rabbit_lost": 0}, "depends"),
        ({"kafka_lost": 0, "rabbit_lost": 3}, "depends"),
    ],
    "ordering": [
        ({"kafka_per_key_in_order": True, "rabbitmq_single_consumer_in_order": True}, "half-true"),
        ({"kafka_per_key_in_order": True, "rabbitmq_single_consumer_in_order": False}, "confirmed"),
        ({"kafka_per_key_in_order": False, "rabbitmq_single_consumer_in_order": True}, "refuted"),
    ],
    "persistence": [
        ({"kafka_second_group_read_all": True, "rabbitmq_restarted": False,
          "rabbitmq_only_persistent_survived": False}, "depends"),
        ({"kafka_second_group_read_all": True, "rabbitmq_restarted": True,
          "rabbitmq_only_persistent_survived": True}, "confirmed"),
        ({"kafka_second_group_read_all": False, "rabbitmq_restarted": True,
          "rabbitmq_only_persistent_survived": True}, "half-true"),
        ({"kafka_second_group_read_all": True, "rabbitmq_restarted": True,
          "rabbitmq_only_persistent_survived": False}, "half-true"),
        ({"kafka_second_group_read_all": False, "rabbitmq_restarted": True,
          "rabbitmq_only_persistent_survived": False}, "refuted"),
    ],
}


@pytest.mark.parametrize(("claim_id", "measured", "verdict"),
                         [(c, m, v) for c, outcomes in CASES.items() for m, v in outcomes])
def test_each_outcome_gives_its_verdict(claim_id, measured, verdict):
    assert rules.rule(claim_id).verdict(measured) == verdict


@pytest.mark.parametrize("claim_id", list(CASES))
def test_every_rule_can_give_more_than_one_verdict(claim_id):
    assert len({v for _, v in CASES[claim_id]}) >= 3
    assert rules.rule(claim_id).cases[-1].test is rules.always

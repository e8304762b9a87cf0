"""The verdict rule of lab 08 (horizontal scaling): each outcome a run can measure gives its verdict."""

import pytest

from brokerlab.course import claims, rules

CLAIM = "horizontal-scaling"


def grown(kafka_lost=0, kafka_leaders=2, rabbit_lost=0, rabbit_leaders=1):
    return {"kafka_lost": kafka_lost, "kafka_new_broker_leaders": kafka_leaders,
            "rabbitmq_lost": rabbit_lost, "rabbitmq_new_node_leaders": rabbit_leaders}


OUTCOMES = [
    (grown(), "half-true"),  # the usual run: both grew online, each new node took leaders
    (grown(kafka_lost=1), "refuted"),  # an acknowledged record lost while Kafka grew
    (grown(kafka_leaders=0), "refuted"),  # the new broker took no part of the topic
    (grown(kafka_lost=1, rabbit_lost=4), "refuted"),  # Kafka's own failure decides first
    (grown(rabbit_lost=2), "confirmed"),  # RabbitMQ lost a confirmed message while it grew
    (grown(rabbit_leaders=0), "confirmed"),  # the new RabbitMQ node led nothing after the rebalance
]


@pytest.mark.parametrize(("measured", "expected"), OUTCOMES)
def test_each_outcome_gets_its_verdict(measured, expected):
    assert rules.rule(CLAIM).verdict(measured) == expected


def test_the_rule_can_give_each_of_its_verdicts_and_explains_itself():
    assert {v for _m, v in OUTCOMES} == {case.verdict for case in rules.rule(CLAIM).cases}
    text = rules.rule(CLAIM).explain()
    assert all(f"{v} when" in text for v in ("refuted", "confirmed", "half-true"))


def test_the_rule_needs_every_measurement():
    with pytest.raises(Exception, match="kafka_new_broker_leaders"):
        rules.rule(CLAIM).verdict({"kafka_lost": 0, "rabbitmq_lost": 0, "rabbitmq_new_node_leaders": 1})


def test_the_claim_is_tested_by_lab_08():
    assert claims.claim(CLAIM).tested_in == "labs/08_scale_out.ipynb"

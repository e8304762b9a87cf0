"""The verdict rules of labs 04-07: each outcome a run can measure gives its own verdict."""

import pytest

from brokerlab.course import rules


def explosion(no_prefetch, prefetch, backlog):
    return {"peak_unacked_no_prefetch": no_prefetch, "peak_unacked_prefetch": prefetch,
            "backlog_prefetch": backlog}


def routing(dropped, copies, flat_exact):
    return {"dropped_silently": dropped, "max_copies_per_service": copies, "flat_design_exact": flat_exact}


def node_failure(confirmed, lost, minority):
    return {"quorum_confirmed": confirmed, "quorum_lost": lost, "confirmed_without_majority": minority}


def dead_letters(without, parked, kafka):
    return {"without_dead_lettering": without, "parked_after_limit": parked, "kafka_dead_lettered": kafka}


OUTCOMES = [
    # the usual run: unacked piled up, prefetch moved the pile to ready
    ("pitfall-queue-explosion", explosion(4000, 10, 900), "half-true"),
    ("pitfall-queue-explosion", explosion(4000, 10, 120), "confirmed"),  # prefetch alone would fix it
    ("pitfall-queue-explosion", explosion(80, 10, 900), "refuted"),  # nothing piled up
    ("pitfall-queue-explosion", explosion(4000, 35, 900), "depends"),  # the prefetch limit did not hold
    ("pitfall-complex-routing", routing(3, 2, True), "confirmed"),
    ("pitfall-complex-routing", routing(0, 2, True), "confirmed"),
    ("pitfall-complex-routing", routing(3, 1, True), "confirmed"),
    ("pitfall-complex-routing", routing(0, 1, True), "refuted"),
    ("pitfall-complex-routing", routing(3, 2, False), "depends"),
    ("pitfall-node-failure", node_failure(900, 0, False), "half-true"),
    ("pitfall-node-failure", node_failure(900, 3, False), "confirmed"),
    ("pitfall-node-failure", node_failure(900, 0, True), "depends"),
    ("pitfall-node-failure", node_failure(0, 0, False), "depends"),
    ("dead-letter-queues", dead_letters("looped", True, True), "confirmed"),  # RabbitMQ before 4.0
    ("dead-letter-queues", dead_letters("dropped", True, True), "confirmed"),  # 4.x: the default limit
    ("dead-letter-queues", dead_letters("left the queue", True, True), "depends"),
    ("dead-letter-queues", dead_letters("looped", True, False), "depends"),
    ("dead-letter-queues", dead_letters("looped", False, False), "refuted"),
]


@pytest.mark.parametrize(("claim_id", "measured", "expected"), OUTCOMES)
def test_each_outcome_gets_its_verdict(claim_id, measured, expected):
    assert rules.rule(claim_id).verdict(measured) == expected


def test_every_rule_can_give_each_of_its_verdicts():
    for claim_id in {c for c, _m, _v in OUTCOMES}:
        given = {v for c, _m, v in OUTCOMES if c == claim_id}
        assert given == {case.verdict for case in rules.rule(claim_id).cases}, claim_id


def test_every_rule_explains_itself_and_needs_its_measurements():
    for claim_id in {c for c, _m, _v in OUTCOMES}:
        rule = rules.rule(claim_id)
        assert all(f"{case.verdict} when {case.when}" in rule.explain() for case in rule.cases)
        with pytest.raises(Exception, match="needs the measurement"):
            rule.verdict({})

"""The verdict rules of labs 01-03: every outcome the measurements can take gives its own verdict."""

from brokerlab.course import rules

LAG = {"lag_growth_per_s": 35.0, "drained_by_scaling_out": True, "idle_members": 2}
ELECTIONS = {"leaders_moved_few": 2, "leaders_moved_many": 200, "reelected_few_s": 3.4,
             "reelected_many_s": 3.9}
OFFSETS = {"before_lost": 25, "after_lost": 0, "after_duplicated": 25, "earliest_replayed": 200,
           "latest_skipped": 200}
ACKS = {"acks_all_lost": 0, "p50_all_ms": 3.0, "p50_1_ms": 2.0}


def verdict(claim_id, base, **changed):
    return rules.rule(claim_id).verdict({**base, **changed})


def test_lab01_consumer_lag():
    assert verdict("pitfall-consumer-lag", LAG) == "confirmed"
    assert verdict("pitfall-consumer-lag", LAG, drained_by_scaling_out=False) == "half-true"
    assert verdict("pitfall-consumer-lag", LAG, idle_members=0) == "half-true"
    assert verdict("pitfall-consumer-lag", LAG, lag_growth_per_s=0.0) == "depends"
    assert verdict("pitfall-consumer-lag", LAG, lag_growth_per_s=-3.0, idle_members=0) == "depends"


def test_lab02_offsets():
    assert verdict("pitfall-offsets", OFFSETS) == "confirmed"
    assert verdict("pitfall-offsets", OFFSETS, after_lost=3) == "half-true"
    assert verdict("pitfall-offsets", OFFSETS, latest_skipped=0) == "half-true"
    assert verdict("pitfall-offsets", OFFSETS, before_lost=0, after_duplicated=0, earliest_replayed=0,
                   latest_skipped=0) == "refuted"


def test_lab03_acks():
    assert verdict("pitfall-acks", ACKS) == "confirmed"
    assert verdict("pitfall-acks", ACKS, p50_all_ms=1.5) == "half-true"
    assert verdict("pitfall-acks", ACKS, acks_all_lost=4) == "refuted"
    assert verdict("pitfall-acks", ACKS, acks_all_lost=4, p50_all_ms=1.5) == "refuted"


def test_lab03_partition_elections():
    assert verdict("pitfall-partition-elections", ELECTIONS) == "half-true"
    assert verdict("pitfall-partition-elections", ELECTIONS, reelected_many_s=7.5) == "confirmed"
    assert verdict("pitfall-partition-elections", ELECTIONS, leaders_moved_many=2) == "refuted"
    assert verdict("pitfall-partition-elections", ELECTIONS, leaders_moved_many=0,
                   reelected_many_s=7.5) == "refuted"

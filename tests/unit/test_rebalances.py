"""Rebalance costs from member callbacks: ownership, revoked partitions, partition-seconds unowned."""

import pytest

from brokerlab.observe import rebalances
from brokerlab.observe.rebalances import Event

# Two members own 0-2 and 3-5; a third joins at t=10: eager, every partition revoked and handed out
# again; m0 comes back 0.5 s after its revoke, m1 at once.
EAGER_JOIN = [
    Event("m0", "assign", 1.0, (0, 1, 2)), Event("m1", "assign", 1.0, (3, 4, 5)),
    Event("m0", "revoke", 10.0, (0, 1, 2)), Event("m1", "revoke", 10.5, (3, 4, 5)),
    Event("m0", "assign", 10.5, (0, 1)), Event("m1", "assign", 10.5, (2, 3)),
    Event("m2", "assign", 10.5, (4, 5)),
]
# The same join, incremental: m0 gives up 2, m1 gives up 5, m2 gets both a second later.
INCREMENTAL_JOIN = [
    Event("m0", "assign", 1.0, (0, 1, 2)), Event("m1", "assign", 1.0, (3, 4, 5)),
    Event("m0", "revoke", 10.0, (2,)), Event("m1", "lost", 10.2, (5,)), Event("m2", "assign", 11.0, (2, 5)),
]


def test_a_ledger_line_round_trips_and_events_come_back_in_time_order():
    lines = [e.line() for e in reversed(INCREMENTAL_JOIN)]
    assert all(" " not in line for line in lines)
    parsed = rebalances.events(lines)
    assert set(parsed) == set(INCREMENTAL_JOIN)
    assert [e.at for e in parsed] == sorted(e.at for e in INCREMENTAL_JOIN)
    assert Event.parse(Event("m2", "assign", 3.0, ()).line()).partitions == ()
    with pytest.raises(ValueError, match="unknown"):
        Event.parse("m0,joined,1.0,1")


def test_owners_and_balance_follow_assign_and_revoke():
    assert rebalances.owners(EAGER_JOIN, until=10.2) == {3: "m1", 4: "m1", 5: "m1"}
    assert rebalances.balanced(EAGER_JOIN[:2], 6, 2)
    assert not rebalances.balanced(EAGER_JOIN[:4], 6, 2)
    assert rebalances.balanced(EAGER_JOIN, 6, 3)
    assert not rebalances.balanced(INCREMENTAL_JOIN[:4], 6, 2)  # 2 and 5 have no owner
    assert rebalances.balanced(INCREMENTAL_JOIN, 6, 3)


def test_cost_counts_revoked_partitions_and_partition_seconds_without_owner():
    eager = rebalances.cost(EAGER_JOIN, since=5.0)
    assert eager.revoked == 6
    assert eager.unowned_seconds == pytest.approx(3 * 0.5)
    assert eager.settled_after == pytest.approx(5.5)
    incremental = rebalances.cost(INCREMENTAL_JOIN, since=5.0)
    assert incremental.revoked == 2
    assert incremental.unowned_seconds == pytest.approx(1.0 + 0.8)


def test_a_window_that_ends_before_every_partition_has_an_owner_is_an_error():
    with pytest.raises(ValueError, match=r"\[2, 5\]"):
        rebalances.cost(INCREMENTAL_JOIN, since=5.0, until=10.5)

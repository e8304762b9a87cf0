"""What a rebalance cost, from the group members' own callbacks.

Each member (its own process) records ``on_assign`` / ``on_revoke`` / ``on_lost`` with a
``time.monotonic()`` timestamp (system-wide on Linux, so comparable between processes) into a
shared :class:`~brokerlab.observe.workers.Ledger`, one line per event. From those lines:
who owns which partition at any moment, how many partitions were revoked after a moment, and
the **partition-seconds without an owner**: summed over partitions, the time from a partition's
revoke (or loss) to its next assign.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

KINDS = ("assign", "revoke", "lost")


@dataclass(frozen=True)
class Event:
    """One callback of one member: ``kind`` of ``partitions`` at monotonic time ``at``."""

    member: str
    kind: str
    at: float
    partitions: tuple[int, ...]

    def line(self) -> str:
        """The event as one whitespace-free ledger line."""
        return f"{self.member},{self.kind},{self.at:.6f},{';'.join(map(str, self.partitions))}"

    @classmethod
    def parse(cls, line: str) -> Event:
        member, kind, at, parts = line.split(",")
        if kind not in KINDS:
            raise ValueError(f"unknown rebalance event {kind!r} in {line!r}")
        return cls(member, kind, float(at), tuple(int(p) for p in parts.split(";") if p))


def events(lines: Iterable[str]) -> list[Event]:
    """Ledger lines as events, in time order."""
    return sorted((Event.parse(line) for line in lines), key=lambda e: e.at)


def owners(history: Iterable[Event], until: float = float("inf")) -> dict[int, str]:
    """{partition: member} owned at time ``until`` (partitions without an owner are absent)."""
    owned: dict[int, str] = {}
    for event in history:
        if event.at > until:
            break
        for p in event.partitions:
            if event.kind == "assign":
                owned[p] = event.member
            elif owned.get(p) == event.member:
                del owned[p]
    return owned


def balanced(history: Iterable[Event], partitions: int, members: int) -> bool:
    """Every partition owned, by exactly ``members`` members, each owning the same number."""
    owned = owners(history)
    per_member = [list(owned.values()).count(m) for m in set(owned.values())]
    return (len(owned) == partitions and len(per_member) == members
            and set(per_member) == {partitions // members})


@dataclass(frozen=True)
class Cost:
    """What one membership change cost: partitions revoked and partition-seconds without owner."""

    revoked: int
    unowned_seconds: float
    settled_after: float  # seconds from the change to the last assign


def cost(history: Iterable[Event], since: float, until: float = float("inf")) -> Cost:
    """The cost of the membership change at ``since``: events in [since, until] only."""
    window = [e for e in history if since <= e.at <= until]
    revoked = sum(len(e.partitions) for e in window if e.kind != "assign")
    released: dict[int, float] = {}
    unowned = 0.0
    for event in window:
        for p in event.partitions:
            if event.kind == "assign":
                if p in released:
                    unowned += event.at - released.pop(p)
            else:
                released[p] = event.at
    if released:  # still without an owner at the end of the window
        raise ValueError(f"partitions {sorted(released)} have no owner at the end of the window")
    last_assign = max((e.at for e in window if e.kind == "assign"), default=since)
    return Cost(revoked, unowned, last_assign - since)

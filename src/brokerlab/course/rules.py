"""How each claim's verdict follows from what a notebook measured: one stated rule per claim.

A rule is a list of cases, tried in order; the first whose condition holds gives the verdict. Each
case carries its condition in words, which :func:`brokerlab.course.claims.judge` prints beside the
verdict, so the learner reads the rule that decided. Tests feed every rule the other outcomes and
show that the verdict changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from brokerlab.course.claims import Verdict
from brokerlab.errors import BrokerlabError

Measured = Mapping[str, Any]


@dataclass(frozen=True)
class Case:
    """One case of a rule: ``verdict`` when ``test(measured)`` holds; ``when`` says it in words."""

    verdict: Verdict
    when: str
    test: Callable[[Measured], bool]


@dataclass(frozen=True)
class Rule:
    """The cases of one claim, tried in order, and the names of the measurements they read."""

    needs: tuple[str, ...]
    cases: tuple[Case, ...]

    def verdict(self, measured: Measured) -> Verdict:
        missing = [k for k in self.needs if k not in measured]
        if missing:
            raise BrokerlabError(f"The rule needs the measurement(s) {', '.join(missing)}.",
                                 f"Pass them all: {', '.join(self.needs)}.")
        for case in self.cases:
            if case.test(measured):
                return case.verdict
        raise BrokerlabError("No case of the rule matched: its last case must always hold.")

    def explain(self) -> str:
        return "; ".join(f"{c.verdict} when {c.when}" for c in self.cases)


def always(_: Measured) -> bool:
    """The last case of a rule: it holds when no earlier case did."""
    return True


# Each group of notebooks keeps its rules in its own block (edit only your block).

# --- lessons 01-04 ---------------------------------------------------------------------------
LESSONS_01_04: dict[str, Rule] = {}

# --- lessons 05-08 ---------------------------------------------------------------------------
LESSONS_05_08: dict[str, Rule] = {}

# --- labs 01-07 ------------------------------------------------------------------------------
LABS: dict[str, Rule] = {
    # Lab 01: where consumer lag came from, and what partition count does to a broker failure.
    "pitfall-consumer-lag": Rule(
        needs=("lag_growth_per_s", "drained_by_scaling_out", "leaders_moved_few", "leaders_moved_many"),
        cases=(
            Case("half-true", "one slow consumer fell behind, more consumers drained the lag (no election "
                              "involved), and more partitions meant more leaders moved by one broker kill",
                 lambda m: m["lag_growth_per_s"] > 0 and m["drained_by_scaling_out"]
                 and m["leaders_moved_many"] > m["leaders_moved_few"]),
            Case("refuted", "more consumers drained the lag and more partitions did not move more leaders",
                 lambda m: m["drained_by_scaling_out"] and m["leaders_moved_many"] <= m["leaders_moved_few"]),
            Case("depends", "otherwise (the lag did not grow, or scaling out did not drain it)", always),
        )),
    # Lab 02: where the committed offset stood when a consumer died, and a group without offsets.
    "pitfall-offsets": Rule(
        needs=("before_lost", "after_lost", "after_duplicated", "earliest_replayed", "latest_skipped"),
        cases=(
            Case("confirmed", "committing before the work lost records, committing after it lost none and "
                              "replayed some, and a group without offsets replayed (earliest) or skipped "
                              "(latest) the old records",
                 lambda m: m["before_lost"] > 0 and m["after_lost"] == 0 and m["after_duplicated"] > 0
                 and m["earliest_replayed"] > 0 and m["latest_skipped"] > 0),
            Case("refuted", "no commit placement lost or replayed a record and a group without offsets "
                            "neither replayed nor skipped",
                 lambda m: m["before_lost"] == m["after_duplicated"] == m["earliest_replayed"]
                 == m["latest_skipped"] == 0),
            Case("half-true", "otherwise (some of the losses or replays did not happen)", always),
        )),
    # Lab 03: what acks=all bought (no acknowledged loss through a leader kill) and what it cost.
    "pitfall-acks": Rule(
        needs=("acks_all_lost", "p50_all_ms", "p50_1_ms"),
        cases=(
            Case("refuted", "acks=all lost an acknowledged record when the leader was killed",
                 lambda m: m["acks_all_lost"] > 0),
            Case("confirmed", "acks=all lost no acknowledged record and its median latency was above "
                              "acks=1's",
                 lambda m: m["p50_all_ms"] > m["p50_1_ms"]),
            Case("half-true", "acks=all lost nothing at no measurable latency cost", always),
        )),
}

RULES: dict[str, Rule] = {**LESSONS_01_04, **LESSONS_05_08, **LABS}


def rule(claim_id: str) -> Rule:
    """The rule that decides ``claim_id``'s verdict."""
    try:
        return RULES[claim_id]
    except KeyError:
        raise BrokerlabError(f"No verdict rule for claim {claim_id!r}.",
                             "Rules live in brokerlab/course/rules.py.") from None

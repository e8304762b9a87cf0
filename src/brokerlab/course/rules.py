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
    # labs 04-07
    "pitfall-queue-explosion": Rule(
        needs=("peak_unacked_no_prefetch", "peak_unacked_prefetch", "backlog_prefetch"),
        cases=(
            Case("refuted", "without a prefetch limit no more than 100 messages were ever unacknowledged "
                            "(5 s of the consumer's work): nothing piled up",
                 lambda m: m["peak_unacked_no_prefetch"] <= 100),
            Case("half-true", "unacknowledged messages piled up (more than 100) without a prefetch limit, "
                              "but with prefetch 10 (at most 10 unacknowledged) the same slow consumer still "
                              "ended more than 300 messages behind: the pile moved to ready, the cause is a "
                              "consumer slower than its producer",
                 lambda m: m["peak_unacked_prefetch"] <= 10 and m["backlog_prefetch"] > 300),
            Case("confirmed", "unacknowledged messages piled up without a prefetch limit, and a prefetch "
                              "limit alone kept the backlog at 300 or below",
                 lambda m: m["peak_unacked_prefetch"] <= 10),
            Case("depends", "otherwise (the prefetch limit did not hold the unacknowledged count at 10)",
                 always),
        )),
    "pitfall-complex-routing": Rule(
        needs=("dropped_silently", "max_copies_per_service", "flat_design_exact"),
        cases=(
            Case("confirmed", "the layered graph dropped a confirmed message silently or gave one service a "
                              "message twice, and the flat design with an alternate exchange put every key "
                              "exactly where wanted, once",
                 lambda m: (m["dropped_silently"] > 0 or m["max_copies_per_service"] > 1)
                 and m["flat_design_exact"]),
            Case("refuted", "the layered graph neither dropped nor duplicated anything",
                 lambda m: m["dropped_silently"] == 0 and m["max_copies_per_service"] <= 1),
            Case("depends", "otherwise (the flat design went wrong too: the trouble is not the layering)",
                 always),
        )),
    "pitfall-node-failure": Rule(
        needs=("quorum_confirmed", "quorum_lost", "confirmed_without_majority"),
        cases=(
            Case("confirmed", "the quorum queue lost a message it had confirmed when one node died",
                 lambda m: m["quorum_lost"] > 0),
            Case("half-true", "the quorum queue failed over by itself with every confirmed message kept "
                              "(and it confirmed some), and with its majority down it confirmed nothing: "
                              "the care needed is keeping a majority up",
                 lambda m: m["quorum_confirmed"] > 0 and not m["confirmed_without_majority"]),
            Case("depends", "otherwise (nothing was confirmed to judge by, or a minority confirmed)", always),
        )),
    "dead-letter-queues": Rule(
        needs=("without_dead_lettering", "parked_after_limit", "kafka_dead_lettered"),
        cases=(
            Case("confirmed", "without dead-lettering the poison message looped for ever or was dropped, "
                              "and with a delivery limit and a dead-letter exchange (and in Kafka a "
                              "dead-letter topic) it was parked where someone can look at it",
                 lambda m: m["without_dead_lettering"] in ("looped", "dropped")
                 and m["parked_after_limit"] and m["kafka_dead_lettered"]),
            Case("refuted", "neither the dead-letter queue nor the dead-letter topic received the poison "
                            "message",
                 lambda m: not m["parked_after_limit"] and not m["kafka_dead_lettered"]),
            Case("depends", "otherwise (only one of the two parked it, or the plain queue coped by itself)",
                 always),
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

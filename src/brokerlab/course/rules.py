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
LABS: dict[str, Rule] = {}

# --- lesson 05b ------------------------------------------------------------------------------
def _stream_readers(m: Measured, quantifier: Callable[..., bool]) -> bool:
    """Whether ``all`` / ``any`` of the stream's readers got every message written to it."""
    return quantifier(n == m["stream_messages"] for n in m["stream_reader_counts"])


def _orders(m: Measured) -> tuple[bool, bool]:
    """(the Kafka share group kept the written order, the RabbitMQ stream was read in order)."""
    return m["share_group_inversions"] == 0, bool(m["stream_in_order"])


def _queue_emptied(m: Measured) -> bool:
    return m["queue_left_after_ack"] == 0


# Each claim's cases, first match wins (the last case always holds).
_ORDERING = (
    Case("depends", "a Kafka share group finished jobs out of order AND a RabbitMQ stream was read in "
                    "offset order (order follows the model, log or queue, not the product)",
         lambda m: _orders(m) == (False, True)),
    Case("confirmed", "the share group kept the order AND the stream did not",
         lambda m: _orders(m) == (True, False)),
    Case("half-true", "otherwise", always),
)
_AFTER_CONSUMPTION = (
    Case("half-true", "every RabbitMQ stream reader got every message AND the quorum queue was empty "
                      "after its acks (a queue removes on ack, a stream keeps)",
         lambda m: _stream_readers(m, all) and _queue_emptied(m)),
    Case("confirmed", "no stream reader got every message AND the queue was empty after its acks",
         lambda m: not _stream_readers(m, any) and _queue_emptied(m)),
    Case("depends", "otherwise", always),
)
_ACKS = (
    Case("half-true", "a Kafka share group accepted, released AND rejected single records "
                      "(consumer groups still commit offsets)",
         lambda m: m["share_accepted"] > 0 and m["share_released"] > 0 and m["share_rejected"] > 0),
    Case("confirmed", "otherwise (no per-record acknowledgement seen on the Kafka side)", always),
)
LESSON_05B: dict[str, Rule] = {
    "ordering-both-models": Rule(needs=("share_group_inversions", "stream_in_order"), cases=_ORDERING),
    "after-consumption-both-models": Rule(
        needs=("stream_reader_counts", "stream_messages", "queue_left_after_ack"), cases=_AFTER_CONSUMPTION),
    "acks-both-models": Rule(needs=("share_accepted", "share_released", "share_rejected"), cases=_ACKS),
}

RULES: dict[str, Rule] = {**LESSONS_01_04, **LESSONS_05_08, **LABS, **LESSON_05B}


def rule(claim_id: str) -> Rule:
    """The rule that decides ``claim_id``'s verdict."""
    try:
        return RULES[claim_id]
    except KeyError:
        raise BrokerlabError(f"No verdict rule for claim {claim_id!r}.",
                             "Rules live in brokerlab/course/rules.py.") from None

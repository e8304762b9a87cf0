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
LESSONS_05_08: dict[str, Rule] = {
    # notebook 06: Kafka/RabbitMQ throughput ratios at equal durability (D1 best client, D2 Python)
    "throughput": Rule(needs=("d1_ratio", "d2_ratio"), cases=(
        Case("half-true", "Kafka was at least 8x faster at both D1 and D2 (a large gap even at "
             "equal durability; the article's 16x still compared unequal setups)",
             lambda m: min(m["d1_ratio"], m["d2_ratio"]) >= 8),
        Case("refuted", "Kafka was less than 2x faster at both D1 and D2",
             lambda m: max(m["d1_ratio"], m["d2_ratio"]) < 2),
        Case("depends", "otherwise: the factor moves with the durability rung", always),
    )),
    # notebook 06: the best rate either broker reached on this machine, against 10^9 msg/s
    "scale": Rule(needs=("best_msgs_per_s",), cases=(
        Case("refuted", "the best rate measured here is below 10^8 msg/s, so billions per second "
             "would take more than ten such machines",
             lambda m: m["best_msgs_per_s"] < 1e8),
        Case("half-true", "otherwise", always),
    )),
    # notebook 07: corrected p99 of both brokers at the same (lowest) load and durability D1
    "latency": Rule(needs=("kafka_p99_ms", "rabbitmq_p99_ms"), cases=(
        Case("half-true", "RabbitMQ's p99 was less than half of Kafka's at the same load",
             lambda m: m["rabbitmq_p99_ms"] < m["kafka_p99_ms"] / 2),
        Case("refuted", "Kafka's p99 was less than half of RabbitMQ's at the same load",
             lambda m: m["kafka_p99_ms"] < m["rabbitmq_p99_ms"] / 2),
        Case("depends", "otherwise: within a factor of 2 of each other at the same load", always),
    )),
}

# --- labs 01-07 ------------------------------------------------------------------------------
LABS: dict[str, Rule] = {}

RULES: dict[str, Rule] = {**LESSONS_01_04, **LESSONS_05_08, **LABS}


def rule(claim_id: str) -> Rule:
    """The rule that decides ``claim_id``'s verdict."""
    try:
        return RULES[claim_id]
    except KeyError:
        raise BrokerlabError(f"No verdict rule for claim {claim_id!r}.",
                             "Rules live in brokerlab/course/rules.py.") from None

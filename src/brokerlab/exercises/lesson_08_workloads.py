"""Checker for notebook 08's exercise: turn three written requirements into the helper's answers.

The learner writes ``describe_workloads() -> dict[str, dict]``: for each scenario of
:data:`SCENARIOS`, the answers the decision helper asks for (the keys of
``brokerlab.course.decide.QUESTIONS``), exactly as they would type them into the form. The checker
validates them with ``decide.parse_workload`` (an invalid value becomes the helper's own
message), compares every answer with what the scenario says, explaining each difference, and
checks that the helper then recommends what the scenario calls for. No broker is involved: the
decision is made from requirements, the evidence comes from the earlier notebooks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from brokerlab.course import decide
from brokerlab.course.checks import CheckResult, Feedback

EXERCISE = "lesson_08_workloads"


@dataclass(frozen=True)
class Scenario:
    """A workload described in words, the answers it implies, and why each answer follows."""

    title: str
    text: str
    answers: dict[str, Any]
    why: dict[str, str]  # answer key → the sentence of the text that settles it
    choice: str
    flavour: str | None


SCENARIOS: dict[str, Scenario] = {
    "sensors": Scenario(
        "Office thermostats",
        "2,000 thermostats in office buildings each publish one reading every 10 seconds, over MQTT. "
        "Readings are routed by building and floor (routing keys like `building.3.floor.2.temp`) to "
        "half a dozen services, each subscribing with its own wildcard patterns. Nobody ever reads old "
        "readings again: a reading can be deleted as soon as it is processed. Order does not matter, "
        "and losing a few readings when a broker node dies is acceptable. There is no latency target. "
        "The team runs neither broker yet.",
        {"throughput": 200, "ordering": "none", "routing": "many-patterns", "replay": False,
         "retention_days": 0, "latency_p99_ms": None, "per_message": False,
         "survive_node_loss": False, "team": "none", "protocols": ("mqtt",)},
        {"throughput": "2,000 thermostats × one reading every 10 s = 200 messages per second",
         "routing": "every service subscribes with its own wildcard patterns: many patterns",
         "protocols": "the thermostats publish over MQTT",
         "survive_node_loss": "losing a few readings when a node dies is acceptable",
         "retention_days": "a reading can be deleted as soon as it is processed: 0 days",
         "replay": "nobody reads old readings again"},
        "RabbitMQ", "classic queues"),
    "ledger": Scenario(
        "Account event log",
        "Every change to a customer account goes to an event log: about 3,000 changes per second at "
        "peak. The changes of one account must be applied in the order they happened; different "
        "accounts are independent. New services must be able to re-read the history, which is kept "
        "for 30 days. Nothing may be lost when a broker node dies. Every consumer reads every change "
        "(no routing), and there is no latency target. The team already runs Kafka for another "
        "product.",
        {"throughput": 3000, "ordering": "per-key", "routing": "simple", "replay": True,
         "retention_days": 30, "latency_p99_ms": None, "per_message": False,
         "survive_node_loss": True, "team": "kafka", "protocols": ()},
        {"throughput": "about 3,000 changes per second at peak",
         "ordering": "the changes of ONE account must stay in order, accounts are independent: per key",
         "replay": "new services must be able to re-read the history",
         "retention_days": "the history is kept for 30 days",
         "team": "the team already runs Kafka",
         "survive_node_loss": "nothing may be lost when a broker node dies"},
        "Kafka", None),
    "renders": Scenario(
        "PDF rendering jobs",
        "A web shop queues PDF rendering jobs, up to 50 per second. Each job is acknowledged on its own "
        "when its PDF is done; a failed job is retried three times and then parked in a dead-letter "
        "queue, and paying customers' jobs go first (priorities). Every job goes to the one pool of "
        "renderers (no routing), in no particular order. A finished job is never needed again. Jobs "
        "must survive a broker node failure. Users wait for their PDF, so the p99 target is 2,000 ms. "
        "The team runs neither broker.",
        {"throughput": 50, "ordering": "none", "routing": "simple", "replay": False,
         "retention_days": 0, "latency_p99_ms": 2000, "per_message": True,
         "survive_node_loss": True, "team": "none", "protocols": ()},
        {"throughput": "up to 50 jobs per second",
         "per_message": "per-job acks, retries, a dead-letter queue and priorities",
         "latency_p99_ms": "the p99 target is 2,000 ms",
         "survive_node_loss": "jobs must survive a broker node failure",
         "retention_days": "a finished job is never needed again: 0 days"},
        "RabbitMQ", "quorum queues"),
}


def brief() -> str:
    """The three scenarios as Markdown, for the notebook."""
    return "\n\n".join(f"**`{key}` — {s.title}.** {s.text}" for key, s in SCENARIOS.items())


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return math.isclose(expected, got, rel_tol=0.01)
    return expected == got


def _shown(value: Any) -> str:
    if value is None:
        return "no target (None / empty)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return repr(value) if value else "none, ()"
    return repr(value)


def check_workloads(describe_workloads: Callable[[], dict], record: bool = True) -> CheckResult:
    """Run the learner's ``describe_workloads()`` and explain every answer that does not fit."""
    fb = Feedback(EXERCISE, record=record)
    ok, described = fb.call(describe_workloads)
    if not ok:
        return fb.result()
    if not fb.expect(isinstance(described, dict),
                     "describe_workloads() returned a dict",
                     f"describe_workloads() must return a dict of scenario → answers, got "
                     f"{type(described).__name__}."):
        return fb.result()
    for key, scenario in SCENARIOS.items():
        answers = described.get(key)
        if not fb.expect(isinstance(answers, dict), f"{key}: answers given",
                         f"{key}: no answers (a dict) for this scenario; the keys are "
                         f"{', '.join(SCENARIOS)}."):
            continue
        try:
            workload = decide.parse_workload(answers)
        except decide.WorkloadError as exc:
            for problem in exc.problems:
                fb.expect(False, "", f"{key}: the helper rejects an answer. {problem}")
            continue
        wrong = 0
        for field, expected in scenario.answers.items():
            got = getattr(workload, field)
            if not _same(expected, got):
                wrong += 1
                reason = scenario.why.get(field, "read the scenario again")
                fb.expect(False, "", f"{key}: {decide.QUESTIONS[field]!r} should be {_shown(expected)} "
                                     f"({reason}); you answered {_shown(got)}.")
        rec = decide.recommend(workload, {})  # course facts only: the same answer on every machine
        if wrong == 0:
            fb.expect(rec.choice == scenario.choice and rec.flavour == scenario.flavour,
                      f"{key}: all {len(scenario.answers)} answers fit; the helper says {rec.headline}",
                      f"{key}: the answers fit but the helper said {rec.headline}; please report this.")
        elif rec.choice != scenario.choice or rec.flavour != scenario.flavour:
            wanted = f"{scenario.choice}{f' ({scenario.flavour})' if scenario.flavour else ''}"
            fb.expect(False, "", f"{key}: with these answers the helper says {rec.headline}; the "
                                 f"scenario calls for {wanted}.")
    return fb.result()

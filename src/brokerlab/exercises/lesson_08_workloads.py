"""Checker for notebook 08's exercise: turn three written requirements into the helper's answers.

The learner writes ``describe_workloads(facts) -> dict[str, dict]``: for each scenario of
:data:`SCENARIOS`, the answers the decision helper asks for (the keys of
``brokerlab.course.decide.QUESTIONS``), exactly as they would type them into the form. The texts
say what each workload needs; its numbers (how many devices, how often, how long the history is
kept...) come in ``facts``, drawn fresh for every attempt from a seed the checker prints, so
answers copied from an earlier attempt do not fit the next one. The checker validates the answers
with ``decide.parse_workload`` (an invalid value becomes the helper's own message), compares every
answer with what the scenario says, explaining each difference without giving the value, and
checks that the helper then recommends what the scenario calls for. No broker is involved: the
decision is made from requirements, the evidence comes from the earlier notebooks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from brokerlab.course import decide
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.exercises import seeds

EXERCISE = "lesson_08_workloads"

CHECKPOINTS = (
    Checkpoint(
        "lesson_08_checkpoint_what_decides",
        "A workload needs 500 msg/s, no order, simple routing, no replay, no latency target, and the "
        "team runs neither broker. Both brokers reached over 5,000 msg/s in your notebook 06. What "
        "does the redrawn flowchart answer?",
        frozenset({"c"}),
        "500 msg/s is far below half of either ceiling, so throughput does not decide, and nothing "
        "earlier in the chart did: either broker will do.",
        "Walk the redrawn chart question by question; throughput decides only above half of a "
        "measured ceiling.",
        {"a": "Kafka, because it has the higher throughput",
         "b": "RabbitMQ, because the rate is low",
         "c": "Either: no question of the chart decides"}),
)

Facts = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Scenario:
    """A workload described in words, the answers it implies given its facts, and why each follows."""

    title: str
    text: str  # names the facts in backticks, e.g. `devices`
    answers: Callable[[dict[str, int]], dict[str, Any]]
    why: dict[str, str]  # answer key → what in the text settles it (never the value itself)


SCENARIOS: dict[str, Scenario] = {
    "sensors": Scenario(
        "Office thermostats",
        "`devices` thermostats in office buildings each publish one reading every `interval_s` "
        "seconds, over MQTT. Readings are routed by building and floor (routing keys like "
        "`building.3.floor.2.temp`) to half a dozen services, each subscribing with its own wildcard "
        "patterns. Nobody ever reads old readings again: a reading can be deleted as soon as it is "
        "processed. Order does not matter, and losing a few readings when a broker node dies is "
        "acceptable. There is no latency target. The team runs neither broker yet.",
        lambda f: {"throughput": f["devices"] / f["interval_s"], "ordering": "none",
                   "routing": "many-patterns", "replay": False, "retention_days": 0,
                   "latency_p99_ms": None, "per_message": False, "survive_node_loss": False,
                   "team": "none", "protocols": ("mqtt",)},
        {"throughput": "each of the `devices` thermostats sends one reading every `interval_s` "
                       "seconds: how many readings arrive per second in all?",
         "routing": "every service subscribes with its own wildcard patterns",
         "protocols": "the thermostats publish over MQTT",
         "survive_node_loss": "losing a few readings when a node dies is acceptable",
         "retention_days": "a reading can be deleted as soon as it is processed",
         "replay": "nobody reads old readings again"}),
    "ledger": Scenario(
        "Account event log",
        "Every change to a customer account goes to an event log: about `peak_per_s` changes per "
        "second at peak. The changes of one account must be applied in the order they happened; "
        "different accounts are independent. New services must be able to re-read the history, which "
        "is kept for `history_days` days. Nothing may be lost when a broker node dies. Every consumer "
        "reads every change (no routing), and there is no latency target. The team already runs Kafka "
        "for another product.",
        lambda f: {"throughput": f["peak_per_s"], "ordering": "per-key", "routing": "simple",
                   "replay": True, "retention_days": f["history_days"], "latency_p99_ms": None,
                   "per_message": False, "survive_node_loss": True, "team": "kafka", "protocols": ()},
        {"throughput": "the text gives the changes per second at peak (`peak_per_s`)",
         "ordering": "the changes of ONE account must stay in order, accounts are independent",
         "replay": "new services must be able to re-read the history",
         "retention_days": "the text says how long the history is kept (`history_days`)",
         "team": "the team already runs one of the two",
         "survive_node_loss": "nothing may be lost when a broker node dies"}),
    "renders": Scenario(
        "PDF rendering jobs",
        "A web shop queues PDF rendering jobs, up to `jobs_per_s` per second. Each job is "
        "acknowledged on its own when its PDF is done; a failed job is retried `retries` times and "
        "then parked in a dead-letter queue, and paying customers' jobs go first (priorities). Every "
        "job goes to the one pool of renderers (no routing), in no particular order. A finished job "
        "is never needed again. Jobs must survive a broker node failure. Users wait for their PDF, so "
        "the p99 target is `p99_ms` ms. The team runs neither broker.",
        lambda f: {"throughput": f["jobs_per_s"], "ordering": "none", "routing": "simple",
                   "replay": False, "retention_days": 0, "latency_p99_ms": f["p99_ms"],
                   "per_message": True, "survive_node_loss": True, "team": "none", "protocols": ()},
        {"throughput": "the text gives the jobs per second (`jobs_per_s`)",
         "per_message": "per-job acks, retries, a dead-letter queue and priorities",
         "latency_p99_ms": "the text gives the p99 target (`p99_ms`)",
         "survive_node_loss": "jobs must survive a broker node failure",
         "retention_days": "a finished job is never needed again"}),
}


def draw_facts(seed: int | None = None) -> tuple[int, Facts]:
    """The numbers of one attempt's three scenarios, drawn from ``seed`` (fresh when None)."""
    seed, rng = seeds.draw(EXERCISE, seed)
    return seed, {
        "sensors": {"devices": rng.randrange(500, 8001, 100),
                    "interval_s": rng.choice((2, 5, 10, 15, 20, 30, 60))},
        "ledger": {"peak_per_s": rng.randrange(1000, 9001, 250), "history_days": rng.randrange(3, 91)},
        "renders": {"jobs_per_s": rng.randrange(10, 151, 5), "retries": rng.randrange(2, 6),
                    "p99_ms": rng.randrange(500, 5001, 250)},
    }


def expected_answers(facts: Facts) -> dict[str, dict[str, Any]]:
    """What each scenario, with these facts, implies for every question of the helper."""
    return {key: scenario.answers(facts[key]) for key, scenario in SCENARIOS.items()}


def brief() -> str:
    """The three scenarios as Markdown, for the notebook (the numbers are named, not given)."""
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


def check_workloads(describe_workloads: Callable[[Facts], dict], seed: int | None = None) -> CheckResult:
    """Draw this attempt's facts, run the learner's ``describe_workloads(facts)`` and explain every
    answer that does not fit (without printing the value that would)."""
    seed, facts = draw_facts(seed)
    print(f"this attempt's facts: {facts}")
    expected = expected_answers(facts)
    fb = Feedback(EXERCISE)
    ok, described = fb.call(describe_workloads, facts)
    if not ok:
        return fb.result()
    if not fb.expect(isinstance(described, dict),
                     "describe_workloads(facts) returned a dict",
                     f"describe_workloads(facts) must return a dict of scenario → answers, got "
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
        wanted = decide.recommend(decide.parse_workload(expected[key]), {})
        wrong = 0
        for field, value in expected[key].items():
            got = getattr(workload, field)
            if not _same(value, got):
                wrong += 1
                reason = scenario.why.get(field, "read the scenario again")
                fb.expect(False, "", f"{key}: your answer to {decide.QUESTIONS[field]!r} "
                                     f"({_shown(got)}) does not fit the text: {reason}.")
        rec = decide.recommend(workload, {})  # course facts only: the same answer on every machine
        if wrong == 0:
            fb.expect(rec.choice == wanted.choice and rec.flavour == wanted.flavour,
                      f"{key}: all {len(expected[key])} answers fit; the helper says {rec.headline}",
                      f"{key}: the answers fit but the helper said {rec.headline}; please report this.")
        elif rec.choice != wanted.choice or rec.flavour != wanted.flavour:
            fb.expect(False, "", f"{key}: with these answers the helper says {rec.headline}, which is "
                                 "not what this scenario calls for.")
    return fb.result()

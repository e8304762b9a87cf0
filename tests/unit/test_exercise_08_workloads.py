"""Notebook 08's exercise checker: a fresh scenario per attempt, hints that explain without giving
the value, and the reference accepted (never recorded). No broker: the exercise is about reading
requirements; the checker runs the decision helper only."""

import copy
import re

from brokerlab.course import checks
from brokerlab.exercises.lesson_08_workloads import (
    EXERCISE,
    SCENARIOS,
    brief,
    check_workloads,
    draw_facts,
    expected_answers,
)

reference = checks.load_solution("lesson_08_workloads")


def with_change(scenario, **answers):
    def describe(facts):
        described = copy.deepcopy(reference.describe_workloads(facts))
        described[scenario].update(answers)
        return described
    return describe


def failed(result):
    return [line for line in result.feedback if line.startswith("✘")]


def test_each_attempt_draws_fresh_facts_from_a_printed_seed(capsys):
    (a, facts_a), (_, facts_b) = draw_facts(1), draw_facts(2)
    assert facts_a != facts_b and draw_facts(1) == (a, facts_a)
    check_workloads(reference.describe_workloads, seed=1)
    out = capsys.readouterr().out
    assert "scenario seed 1 " in out and f"facts: {facts_a}" in out
    assert all(key in brief() for key in SCENARIOS)


def test_reference_passes_on_any_seed_and_is_never_recorded():
    for seed in (1, 2, 3, 99):
        result = check_workloads(reference.describe_workloads, seed=seed)
        assert result.passed, result
    assert EXERCISE not in checks.progress()


def test_a_learners_correct_answer_is_recorded():
    def learners_answer(facts):
        return copy.deepcopy(reference.describe_workloads(facts))

    assert check_workloads(learners_answer, seed=4).passed
    assert checks.progress()[EXERCISE]["passed"] is True


def test_the_literal_answers_of_another_scenario_are_rejected():
    _, earlier = draw_facts(5)
    literal = expected_answers(earlier)  # what a previous attempt's scenario called for
    result = check_workloads(lambda facts: copy.deepcopy(literal), seed=6)
    assert not result.passed
    assert any("Messages per second at peak" in line for line in failed(result)), result


def test_not_attempted():
    def describe(facts):
        raise NotImplementedError
    result = check_workloads(describe, seed=1)
    assert not result.passed and "Not attempted yet" in result.feedback[0]


def test_rate_not_divided_by_the_interval_explains_without_giving_the_value():
    _, facts = draw_facts(7)
    devices, right = facts["sensors"]["devices"], expected_answers(facts)["sensors"]["throughput"]
    result = check_workloads(with_change("sensors", throughput=devices), seed=7)
    lines = failed(result)
    assert len(lines) == 1 and "sensors: your answer to 'Messages per second at peak'" in lines[0], lines
    assert "how many readings arrive per second in all" in lines[0]
    numbers = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", lines[0])}
    assert not any(abs(n - right) < 0.01 * right for n in numbers), lines[0]


def test_replay_forgotten_is_explained():
    result = check_workloads(with_change("ledger", replay=False, retention_days=0), seed=8)
    lines = failed(result)
    assert any("'Re-read history (replay)?'" in line and "re-read the history" in line for line in lines)
    assert any("how long the history is kept" in line for line in lines)
    # Per-key order still points to Kafka: the hint says the answers are wrong, not the choice.
    assert not any("calls for" in line for line in lines)


def test_global_ordering_instead_of_per_key_gives_another_recommendation():
    result = check_workloads(with_change("ledger", ordering="global", replay=False, retention_days=0,
                                         team="none"), seed=9)
    lines = failed(result)
    assert any("ONE account" in line for line in lines)
    assert any("the helper says Either" in line and "not what this scenario calls for" in line
               for line in lines)


def test_invalid_value_gets_the_helpers_own_message():
    result = check_workloads(with_change("renders", latency_p99_ms="fast"), seed=10)
    assert any("renders: the helper rejects an answer" in line and "'fast' is not a number" in line
               for line in failed(result))


def test_wrong_shapes():
    assert "must return a dict" in failed(check_workloads(lambda facts: [1, 2], seed=1))[0]
    missing = check_workloads(lambda facts: {"sensors": reference.describe_workloads(facts)["sensors"]},
                              seed=1)
    assert any("ledger: no answers" in line for line in failed(missing))
    raising = check_workloads(lambda facts: 1 / 0, seed=1)
    assert "ZeroDivisionError" in failed(raising)[0]

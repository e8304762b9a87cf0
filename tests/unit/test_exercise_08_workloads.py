"""Notebook 08's exercise checker: it accepts the reference and explains wrong answers.

No broker: the exercise is about reading requirements; the checker runs the decision helper only.
"""

import copy

from brokerlab.course import checks
from brokerlab.exercises.lesson_08_workloads import EXERCISE, SCENARIOS, brief, check_workloads

reference = checks.load_solution("lesson_08_workloads")


def with_change(scenario, **answers):
    def describe():
        described = copy.deepcopy(reference.describe_workloads())
        described[scenario].update(answers)
        return described
    return describe


def failed(result):
    return [line for line in result.feedback if line.startswith("✘")]


def test_reference_passes_and_is_not_recorded():
    result = check_workloads(reference.describe_workloads, record=False)
    assert result.passed, result
    assert EXERCISE not in checks.progress()
    assert all(key in brief() for key in SCENARIOS)


def test_learner_attempt_is_recorded_but_the_reference_never_is():
    check_workloads(reference.describe_workloads)  # the reference itself, even with record=True
    assert EXERCISE not in checks.progress()

    def learners_answer():
        return copy.deepcopy(reference.describe_workloads())

    check_workloads(learners_answer)
    assert checks.progress()[EXERCISE]["passed"] is True


def test_not_attempted():
    def describe():
        raise NotImplementedError
    result = check_workloads(describe, record=False)
    assert not result.passed and "Not attempted yet" in result.feedback[0]


def test_rate_not_divided_by_the_interval():
    result = check_workloads(with_change("sensors", throughput=2000), record=False)
    assert not result.passed
    assert failed(result) == ["✘ sensors: 'Messages per second at peak' should be 200 (2,000 thermostats × "
                              "one reading every 10 s = 200 messages per second); you answered 2000."]


def test_replay_forgotten_changes_the_recommendation():
    result = check_workloads(with_change("ledger", replay=False, retention_days=0), record=False)
    lines = failed(result)
    assert any("'Re-read history (replay)?' should be True (new services must be able to re-read the "
               "history); you answered False." in line for line in lines)
    assert any("should be 30 (the history is kept for 30 days)" in line for line in lines)
    # Per-key order still points to Kafka: the hint says the answers are wrong, not the choice.
    assert not any("calls for" in line for line in lines)


def test_global_ordering_instead_of_per_key_gives_another_recommendation():
    result = check_workloads(with_change("ledger", ordering="global", replay=False, retention_days=0,
                                         team="none"), record=False)
    lines = failed(result)
    assert any("should be 'per-key'" in line and "ONE account" in line for line in lines)
    assert any("the helper says Either" in line and "calls for Kafka" in line for line in lines)


def test_invalid_value_gets_the_helpers_own_message():
    result = check_workloads(with_change("renders", latency_p99_ms="fast"), record=False)
    assert any("renders: the helper rejects an answer" in line and "'fast' is not a number" in line
               for line in failed(result))


def test_wrong_shapes():
    assert "must return a dict" in failed(check_workloads(lambda: [1, 2], record=False))[0]
    missing = check_workloads(lambda: {"sensors": reference.describe_workloads()["sensors"]}, record=False)
    assert any("ledger: no answers" in line for line in failed(missing))
    raising = check_workloads(lambda: 1 / 0, record=False)
    assert "ZeroDivisionError" in failed(raising)[0]

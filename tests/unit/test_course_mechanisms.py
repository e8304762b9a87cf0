"""Demonstrations, verdict rules, checkpoints and the progress report (no broker needed)."""

import json

import pytest

from brokerlab import cli
from brokerlab.course import checkpoints, checks, claims, demo, rules
from brokerlab.errors import BrokerlabError


@pytest.fixture(autouse=True)
def private_data(monkeypatch, tmp_path):
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BROKERLAB_PROGRESS_DIR", raising=False)


def test_a_demonstration_that_did_not_show_explains_itself_to_the_learner(monkeypatch, capsys):
    monkeypatch.delenv(demo.STRICT_ENV, raising=False)
    assert demo.shows("lag grows", False, "lag 3 → 2", "the consumer caught up") is False
    out = capsys.readouterr().out
    assert "Not shown in this run: lag grows" in out and "the consumer caught up" in out


def test_the_same_miss_fails_under_the_test_suite(monkeypatch):
    monkeypatch.setenv(demo.STRICT_ENV, "1")
    with pytest.raises(demo.NotShown, match="lag 3 → 2"):
        demo.shows("lag grows", False, "lag 3 → 2", "the consumer caught up")
    assert demo.shows("lag grows", True, "lag 3 → 40", "") is True


RULE = rules.Rule(needs=("lost", "slower"), cases=(
    rules.Case("refuted", "acks=all lost an acknowledged record", lambda m: m["lost"] > 0),
    rules.Case("confirmed", "nothing was lost and acks=all was slower", lambda m: m["slower"]),
    rules.Case("half-true", "nothing was lost at no latency cost", rules.always),
))


def test_a_rule_gives_each_outcome_its_own_verdict_and_says_why():
    assert RULE.verdict({"lost": 1, "slower": True}) == "refuted"
    assert RULE.verdict({"lost": 0, "slower": True}) == "confirmed"
    assert RULE.verdict({"lost": 0, "slower": False}) == "half-true"
    assert RULE.explain().startswith("refuted when acks=all lost")
    with pytest.raises(BrokerlabError, match="slower"):
        RULE.verdict({"lost": 0})


def test_judge_records_the_verdict_its_rule_computed(monkeypatch):
    monkeypatch.setitem(rules.RULES, "pitfall-acks", RULE)
    result = claims.judge("pitfall-acks", {"lost": 0, "slower": False},
                          {"confirmed": "slower", "half-true": "free", "refuted": "lost"}, {"n": 1})
    assert result.verdict == "half-true" and result.summary == "free"
    assert claims.results()["pitfall-acks"].evidence["rule"] == RULE.explain()


def test_every_stated_rule_ends_with_a_case_that_always_holds():
    for claim_id, rule in rules.RULES.items():
        claims.claim(claim_id)  # a rule for a claim that exists
        assert rule.cases[-1].test is rules.always, claim_id


QUESTION = checkpoints.Checkpoint(
    "lesson_99_checkpoint_retention", "What does Kafka do with a record once it is read?",
    frozenset({"b"}), "Right: it stays until retention removes it.", "Re-read the retention cell.",
    {"a": "deletes it", "b": "keeps it", "c": "moves it"})


def test_a_checkpoint_rejects_a_wrong_answer_and_accepts_the_right_one():
    assert checkpoints.check(QUESTION, None) is None
    assert "lesson_99_checkpoint_retention" not in checks.progress()  # unanswered: nothing recorded
    wrong = checkpoints.check(QUESTION, "a")
    assert not wrong.passed and "keeps it" not in str(wrong)  # the hint does not give it away
    assert checkpoints.check(QUESTION, " B) ").passed


def test_progress_report_separates_passed_attempted_and_not_attempted(capsys):
    every = checks.known_exercises()
    assert "lesson_01_leftovers" in every and "lab_07_poison_messages_dlq" in every
    for exercise, outcome in (("lesson_01_leftovers", True), ("lab_01_consumer_lag", False)):
        fb = checks.Feedback(exercise)
        fb.expect(outcome, "ok", "hint")
        fb.result()
    assert cli.main(["progress", "--json"]) == 0
    rows = {r["exercise"]: r for r in json.loads(capsys.readouterr().out)["exercises"]}
    assert rows["lesson_01_leftovers"]["status"] == "passed"
    assert rows["lab_01_consumer_lag"]["status"] == "attempted, not passed"
    assert rows["lesson_02_consumer_lag"] == {"exercise": "lesson_02_consumer_lag",
                                              "status": "not attempted", "attempts": 0,
                                              "last_attempt_at": None}
    assert cli.main(["progress"]) == 0
    text = capsys.readouterr().out
    assert "Passed (1):\n  lesson_01_leftovers (1 attempt(s))" in text
    assert "Attempted, not passed (1):\n  lab_01_consumer_lag" in text


def test_a_function_that_raises_gets_its_last_line_and_a_hint_never_a_pass():
    def learners_answer():
        values = {"a": 1}
        return values["b"]  # the mistake

    fb = checks.Feedback("lesson_99_raises")
    ok, _ = fb.call(learners_answer)
    result = fb.result()
    assert not ok and not result.passed
    hint = result.feedback[-1]
    assert "KeyError" in hint and 'return values["b"]' in hint and "learners_answer" in hint

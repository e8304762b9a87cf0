"""Exercises 03-05: each attempt draws a different scenario, and their checkpoints accept the right
answer and reject a wrong one (no broker needed)."""

from __future__ import annotations

import pytest

from brokerlab.course import checkpoints
from brokerlab.exercises import lesson_03_routing, lesson_04_idempotent_consumer, lesson_05_replay_from

MODULES = (lesson_03_routing, lesson_04_idempotent_consumer, lesson_05_replay_from)


def test_routing_scenarios_differ_and_always_test_both_wildcards():
    seen = set()
    for seed in range(1, 200):
        messages = lesson_03_routing.scenario(seed)
        seen.add(tuple(messages))
        words = [k.split(".") for k in messages]
        # `#` vs `*` on the eu queue; `*.*.urgent` vs `#.urgent` on the urgent queue; a key for audit only.
        assert any(w[:2] == ["orders", "eu"] and len(w) >= 4 for w in words)
        assert any(len(w) == 4 and w[-1] == "urgent" for w in words)
        assert any(r == frozenset({"audit"}) for r in messages.values())
        assert all("audit" in r for r in messages.values())
    assert len(seen) > 150
    assert lesson_03_routing.scenario(7) == lesson_03_routing.scenario(7)


def test_routing_expectations_follow_the_rules_not_a_pattern():
    messages = lesson_03_routing.scenario(11)
    for key, roles in messages.items():
        w = key.split(".")
        assert ("eu" in roles) == (w[:2] == ["orders", "eu"])
        assert ("urgent" in roles) == (len(w) == 3 and w[2] == "urgent")


def test_routing_hints_describe_keys_without_spelling_them():
    from brokerlab.course.checks import Feedback

    messages = lesson_03_routing.scenario(5)
    expected = lesson_03_routing.expected_by_queue(messages)["eu"]
    fb = Feedback("t", record=False)
    lesson_03_routing._queue_line(fb, "eu", expected, [], ["orders.eu.*"], topic=True)
    hint = fb.lines[0]
    assert hint.startswith("✘") and not any(key in hint for key in expected if key.count(".") > 1)


def test_idempotent_consumer_scenarios_differ():
    a_pay, _ = lesson_04_idempotent_consumer.scenario(1)
    b_pay, _ = lesson_04_idempotent_consumer.scenario(2)
    assert a_pay != b_pay and not set(a_pay) & set(b_pay)
    for seed in range(1, 100):
        payments, plan = lesson_04_idempotent_consumer.scenario(seed)
        assert 16 <= len(payments) <= 28
        assert plan[0][0] == "before-ack" and plan[1][0] == "after-ack" and plan[2] is None


def test_replay_scenarios_differ_and_values_do_not_name_their_place():
    a, b = lesson_05_replay_from.scenario(1), lesson_05_replay_from.scenario(2)
    assert a.records != b.records
    for seed in range(1, 200):
        plan = lesson_05_replay_from.scenario(seed)
        for partition, offset, n in plan.cases:
            assert offset > 0 and offset + n < len(plan.records[partition])
        assert len({p for p, _, _ in plan.cases}) == 2
        assert not any(b"p" in v and b"-o" in v for vs in plan.records.values() for v in vs)


@pytest.mark.parametrize("checkpoint", [cp for m in MODULES for cp in m.CHECKPOINTS], ids=lambda cp: cp.id)
def test_checkpoints_accept_the_right_answer_and_reject_a_wrong_one(checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("BROKERLAB_PROGRESS_DIR", str(tmp_path))
    module = checkpoint.id.split("_checkpoint_")[0]
    assert any(m.EXERCISE.startswith(module) for m in MODULES)
    right = next(iter(checkpoint.accepted))
    wrong = next(k for k in checkpoint.choices if k not in checkpoint.accepted)
    assert checkpoints.check(checkpoint, right).passed
    assert not checkpoints.check(checkpoint, wrong).passed
    assert checkpoints.check(checkpoint, None) is None

"""The checkpoints of notebooks 06-08 reject a wrong answer and accept the right one (no broker)."""

import pytest

from brokerlab.course import checkpoints
from brokerlab.exercises import lesson_06_produce_all, lesson_07_open_loop, lesson_08_workloads

ALL = [*lesson_06_produce_all.CHECKPOINTS, *lesson_07_open_loop.CHECKPOINTS,
       *lesson_08_workloads.CHECKPOINTS]


@pytest.mark.parametrize("cp", ALL, ids=lambda cp: cp.id)
def test_each_checkpoint_rejects_every_wrong_choice_and_accepts_the_right_one(cp):
    assert cp.id.startswith(("lesson_06_checkpoint_", "lesson_07_checkpoint_", "lesson_08_checkpoint_"))
    for choice in cp.choices:
        result = checkpoints.check(cp, choice.upper() + ")")
        assert result.passed == (choice in cp.accepted), (cp.id, choice)
    assert checkpoints.check(cp, None) is None  # unanswered: prints the question, records nothing

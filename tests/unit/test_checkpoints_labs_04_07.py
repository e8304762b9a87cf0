"""The checkpoints of labs 04, 05 and 07 reject a wrong answer and accept the right one."""

import pytest

from brokerlab.course import checkpoints
from brokerlab.exercises import lab_04_queue_explosion, lab_05_complex_routing, lab_07_poison_messages_dlq

CASES = [(lab_04_queue_explosion.CHECKPOINTS[0], "a", "b"),
         (lab_05_complex_routing.CHECKPOINTS[0], "b", "c"),
         (lab_07_poison_messages_dlq.CHECKPOINTS[0], "a", "5")]


@pytest.mark.parametrize(("checkpoint", "wrong", "right"), CASES)
def test_rejects_wrong_and_accepts_right(checkpoint, wrong, right, tmp_path, monkeypatch):
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path))
    assert not checkpoints.check(checkpoint, wrong).passed
    assert checkpoints.check(checkpoint, right).passed
    assert checkpoints.check(checkpoint, None) is None


@pytest.mark.parametrize(("checkpoint", "wrong", "right"), CASES)
def test_ids_follow_the_convention(checkpoint, wrong, right):
    assert checkpoint.id.startswith("lab_0") and "_checkpoint_" in checkpoint.id

"""Lesson 05b's verdict rules: each measured outcome gives its own verdict, and the claims they
decide are the last ones of CLAIMS, tested in the lesson's notebook."""

import pytest

from brokerlab.course import claims
from brokerlab.course.rules import LESSON_05B, RULES, rule
from brokerlab.errors import BrokerlabError

NOTEBOOK = "notebooks/05b_each_borrows_the_others_model.ipynb"


def test_the_lesson_claims_come_last_and_each_has_a_rule() -> None:
    ids = [c.id for c in claims.CLAIMS[-3:]]
    assert ids == ["ordering-both-models", "after-consumption-both-models", "acks-both-models"]
    assert set(ids) == set(LESSON_05B) and set(LESSON_05B) <= set(RULES)
    assert all(claims.claim(i).tested_in == NOTEBOOK for i in ids)


@pytest.mark.parametrize("measured, verdict", [
    ({"share_group_inversions": 30, "stream_in_order": True}, "depends"),
    ({"share_group_inversions": 0, "stream_in_order": False}, "confirmed"),
    ({"share_group_inversions": 0, "stream_in_order": True}, "half-true"),
    ({"share_group_inversions": 5, "stream_in_order": False}, "half-true"),
])
def test_ordering(measured, verdict) -> None:
    assert rule("ordering-both-models").verdict(measured) == verdict


@pytest.mark.parametrize("readers, left, verdict", [
    ([200, 200], 0, "half-true"),
    ([0, 0], 0, "confirmed"),
    ([200, 150], 0, "depends"),
    ([200, 200], 3, "depends"),
])
def test_after_consumption(readers, left, verdict) -> None:
    measured = {"stream_reader_counts": readers, "stream_messages": 200, "queue_left_after_ack": left}
    assert rule("after-consumption-both-models").verdict(measured) == verdict


@pytest.mark.parametrize("accepted, released, rejected, verdict", [
    (58, 3, 1, "half-true"),
    (58, 0, 1, "confirmed"),
    (58, 3, 0, "confirmed"),
    (0, 0, 0, "confirmed"),
])
def test_acks(accepted, released, rejected, verdict) -> None:
    measured = {"share_accepted": accepted, "share_released": released, "share_rejected": rejected}
    assert rule("acks-both-models").verdict(measured) == verdict


def test_a_missing_measurement_is_an_error() -> None:
    with pytest.raises(BrokerlabError):
        rule("acks-both-models").verdict({"share_accepted": 1})

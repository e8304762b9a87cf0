"""brokerlab.waiting: the one way the course waits."""

from __future__ import annotations

import pytest

from brokerlab.errors import BrokerlabError
from brokerlab.waiting import steadily, wait_for


def test_wait_for_returns_the_first_truthy_answer_and_retries_listed_errors() -> None:
    answers = iter([KeyError("not yet"), 0, "ready"])

    def check() -> object:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_for(check, 5, 0.01, retry_on=(KeyError,)) == "ready"


def test_wait_for_says_what_and_what_next_when_time_runs_out() -> None:
    assert wait_for(lambda: None, 0.05, 0.01) is None
    with pytest.raises(BrokerlabError) as error:
        wait_for(lambda: 7 < 3, 0.05, 0.01, problem=lambda last: f"still {last}", fix="run this")
    assert error.value.problem == "still False" and error.value.fix == "run this"


def test_steadily_needs_that_many_answers_in_a_row() -> None:
    answers = iter([True, True, False, True, ValueError("flaky"), True, True, True])

    def check() -> bool:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    held = steadily(check, 3)
    seen = []
    for _ in range(8):
        try:
            seen.append(held())
        except ValueError:
            seen.append("error")
    assert seen == [False, False, False, False, "error", False, False, True]

"""One way to wait for something: poll a check until it answers or a deadline passes.

Every wait in the course has a timeout and, when it runs out, says what to run next: pass
``problem`` (and ``fix``) and the timeout raises :class:`~brokerlab.errors.BrokerlabError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from brokerlab.errors import BrokerlabError

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float, interval: float = 0.2, *,
             retry_on: tuple[type[Exception], ...] = (),
             problem: str | Callable[[object], str] | None = None, fix: str = "") -> T | None:
    """Call ``check`` every ``interval`` s until it returns something truthy, and return that.

    Exceptions of the types in ``retry_on`` count as "not yet". After ``timeout`` seconds: None,
    or, when ``problem`` is given, a BrokerlabError with it (a callable gets the last answer or
    exception) and ``fix``. The check always runs at least once.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = check()
            if last:
                return last
        except retry_on as exc:
            last = exc
        if time.monotonic() >= deadline:
            if problem is None:
                return None
            raise BrokerlabError(problem(last) if callable(problem) else problem, fix)
        time.sleep(interval)


def steadily(check: Callable[[], object], times: int) -> Callable[[], bool]:
    """A check for :func:`wait_for` that holds once ``check`` has held ``times`` calls in a row:
    for state that several servers each apply moments apart, any of which may answer. An exception
    from ``check`` breaks the streak (and reaches ``wait_for``'s ``retry_on``)."""
    streak = 0

    def held() -> bool:
        nonlocal streak
        previous, streak = streak, 0
        streak = previous + 1 if check() else 0
        return streak >= times

    return held

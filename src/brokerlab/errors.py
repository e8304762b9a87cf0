"""One error type for everything a learner can fix, always with the next step to take."""

from __future__ import annotations


class BrokerlabError(RuntimeError):
    """A failure the user can act on: what went wrong, and what to run next."""

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}\n  → {fix}" if fix else problem)

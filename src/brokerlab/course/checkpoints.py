"""Checkpoints inside a lesson: a short question, answered in one line, checked by the course.

A lesson asks a question before it shows the answer (*predict first*) or after a section, to
check the learner follows. The learner sets ``answer = "b"`` (or a word) and runs the cell;
:func:`check` says right or not, with a hint that does not give the answer away, and records
the attempt in the learner's progress like any exercise. An unanswered checkpoint records
nothing, so running a whole notebook never fills the progress file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from brokerlab.course.checks import CheckResult, Feedback


@dataclass(frozen=True)
class Checkpoint:
    """One question: ``choices`` (letter → text) for multiple choice, empty for a one-line answer."""

    id: str  # lesson_NN_checkpoint_<slug>
    question: str
    accepted: frozenset[str]  # right answers, lower-case
    why: str  # shown when right: the reason, in a sentence or two
    hint: str  # shown when wrong: where to look, not the answer
    choices: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        lines = [self.question, *(f"  {k}) {v}" for k, v in self.choices.items())]
        return "\n".join(lines)


def check(checkpoint: Checkpoint, answer: object) -> CheckResult | None:
    """Check ``answer``; ``None`` (not answered yet) prints the question and records nothing."""
    if answer is None:
        print(checkpoint.text())
        print("Not answered yet: set `answer = ...` above and run the cell again.")
        return None
    given = str(answer).strip().lower().rstrip(").")
    fb = Feedback(checkpoint.id)
    fb.expect(given in checkpoint.accepted, checkpoint.why,
              f"Not quite ({given!r}). {checkpoint.hint}")
    result = fb.result()
    print(result)
    return result

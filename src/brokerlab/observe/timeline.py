"""Sequence diagrams drawn from measured timestamps (plumbing for the lessons' message traces).

A lesson records what happened and when — ``trace.step("Producer", "Broker", "produce()", t)``
with ``t`` from ``time.time()`` (or a broker's own timestamp) — and :meth:`Trace.mermaid` turns
the record into Mermaid ``sequenceDiagram`` source, every arrow labelled with its time since
the trace's zero (a chosen moment, or the first step). The source is built with mermaid-py's
offline builder classes; show it with ``brokerlab.observe.diagrams.show``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mermaid.sequence import Link, Note, NotePosition, Participant, SequenceDiagram

from brokerlab.errors import BrokerlabError
from brokerlab.observe.diagrams import label


@dataclass(frozen=True)
class Step:
    """One arrow (or, with ``target`` None, one note) of a trace: who, what, when (epoch s)."""

    source: str
    target: str | None
    message: str
    at: float
    reply: bool = False


class Trace:
    """The measured life of one message, as a list of steps between named participants."""

    def __init__(self, title: str, participants: list[str], zero: float | None = None) -> None:
        """``zero``: the moment times are measured from (default: the earliest step)."""
        self.title = title
        self.zero = zero
        self.participants = {name: Participant(name) for name in participants}
        self.steps: list[Step] = []

    def _check(self, *names: str) -> None:
        for name in names:
            if name not in self.participants:
                raise BrokerlabError(f"{name!r} is not a participant of trace {self.title!r}.",
                                     "Participants: " + ", ".join(self.participants))

    def step(self, source: str, target: str, message: str, at: float, reply: bool = False) -> None:
        """An arrow from ``source`` to ``target`` at time ``at`` (dotted when ``reply``)."""
        self._check(source, target)
        self.steps.append(Step(source, target, message, at, reply))

    def note(self, over: str, message: str, at: float) -> None:
        """A note over one participant at time ``at`` (something that happened inside it)."""
        self._check(over)
        self.steps.append(Step(over, None, message, at))

    @property
    def start(self) -> float:
        """The moment times are measured from: ``zero``, else the earliest step."""
        if self.zero is not None:
            return self.zero
        if not self.steps:
            raise BrokerlabError(f"Trace {self.title!r} has no steps yet.")
        return min(s.at for s in self.steps)

    def ms(self, step: Step) -> float:
        """Milliseconds from the trace's zero to ``step`` (negative before it)."""
        return (step.at - self.start) * 1000

    def in_order(self) -> list[Step]:
        """The steps sorted by time (stable: equal times keep the order they were recorded in)."""
        return sorted(self.steps, key=lambda s: s.at)

    def rows(self) -> list[tuple[float, str]]:
        """``(ms since start, "source → target: message")`` for each step, in time order."""
        return [(self.ms(s), f"{s.source} → {s.target}: {s.message}" if s.target
                 else f"[{s.source}] {s.message}") for s in self.in_order()]

    def mermaid(self) -> str:
        """Mermaid ``sequenceDiagram`` source, each arrow and note prefixed with ``+N.N ms``
        (its time from the trace's zero)."""
        elements: list = list(self.participants.values())
        for s in self.in_order():
            text = label(f"{self.ms(s):+.1f} ms {s.message}")
            if s.target is None:
                elements.append(Note(text, self.participants[s.source], NotePosition.RIGHT_OF))
            else:
                elements.append(Link(self.participants[s.source], self.participants[s.target],
                                     "Dotted-arrow" if s.reply else "Solid-arrow", text))
        # json.dumps gives a double-quoted YAML scalar: any title is safe in the front matter.
        return SequenceDiagram(json.dumps(self.title, ensure_ascii=False), elements).script

"""Demonstrations that explain themselves.

A lesson shows an effect (lag grows, a queue pages to disk, acks=all waits for followers). Whether
it shows can depend on this machine's timing. :func:`shows` tells the learner what was expected
and what was measured and, when the effect did not show, why that can happen, in words. Under the
test suite (``BROKERLAB_STRICT=1``, set by ``scripts/test.sh``) the same condition raises
:class:`NotShown` instead, so a demonstration that broke still fails the suite. The condition is
the same in both cases: the learner's explanation is never looser than the test.
"""

from __future__ import annotations

import os

STRICT_ENV = "BROKERLAB_STRICT"


class NotShown(AssertionError):
    """A demonstration whose effect did not appear, raised only under the test suite."""


def strict() -> bool:
    """True under the test suite: a demonstration that did not show is an error there."""
    return os.environ.get(STRICT_ENV) == "1"


def shows(expected: str, held: bool, measured: str, why: str) -> bool:
    """Report one demonstration: ``expected`` (the effect, in words) held or not in this run.

    ``measured`` gives the numbers this run produced; ``why`` explains, for a learner whose run
    did not show the effect, what can cause that (a busy machine, a timer that did not fire yet).
    Prints the outcome and returns ``held``; under the test suite a miss raises :class:`NotShown`.
    """
    if held:
        print(f"✔ {expected}\n  measured: {measured}")
        return True
    text = (f"✘ Not shown in this run: {expected}\n  measured: {measured}\n"
            f"  why this can happen: {why}")
    if strict():
        raise NotShown(text)
    print(text)
    return False

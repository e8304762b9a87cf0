"""Scenario seeds: every checker attempt draws its scenario from a seed it prints."""

from __future__ import annotations

import random


def rng_for(seed: int | None = None) -> tuple[int, random.Random]:
    """``(seed, a generator seeded with it)``; a fresh random seed when ``seed`` is None."""
    seed = random.SystemRandom().randrange(10**6) if seed is None else seed
    return seed, random.Random(seed)

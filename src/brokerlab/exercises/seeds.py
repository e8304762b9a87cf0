"""A checker's scenario, drawn fresh for each attempt from a seed the checker prints.

Every attempt gets other numbers, names and payloads, so an answer copied from an earlier attempt
(or from the printed feedback) does not fit the next one. Pass ``seed`` to replay an attempt.
"""

from __future__ import annotations

import random
import secrets


def new_seed() -> int:
    """A fresh seed: each attempt gets its own scenario."""
    return secrets.randbelow(10**6)


def announce(exercise: str, seed: int | None = None) -> int:
    """The attempt's seed (a fresh one unless given), printed so the learner can replay it."""
    seed = new_seed() if seed is None else seed
    print(f"{exercise}: scenario seed {seed} (pass seed={seed} to replay this scenario)")
    return seed


def draw(exercise: str, seed: int | None = None) -> tuple[int, random.Random]:
    """:func:`announce` the seed, and a random generator made from it."""
    seed = announce(exercise, seed)
    return seed, random.Random(seed)


def token(rng: random.Random, length: int = 8) -> str:
    """A random lower-case hex word from ``rng`` (message ids, payload markers)."""
    return f"{rng.getrandbits(4 * length):0{length}x}"

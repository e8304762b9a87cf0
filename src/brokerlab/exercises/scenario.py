"""A checker's scenario, drawn fresh for each attempt from a seed the checker prints.

Every attempt gets other numbers, names and payloads, so an answer copied from an earlier attempt
(or from the printed feedback) does not fit the next one. Pass ``seed`` to replay an attempt.
"""

from __future__ import annotations

import random
import secrets


def draw(exercise: str, seed: int | None = None) -> tuple[int, random.Random]:
    """The seed (a fresh one unless given) and a random generator made from it; prints the seed."""
    seed = secrets.randbelow(10**6) if seed is None else seed
    print(f"{exercise}: scenario seed {seed} (pass seed={seed} to replay this scenario)")
    return seed, random.Random(seed)


def token(rng: random.Random, length: int = 8) -> str:
    """A random lower-case hex word from ``rng`` (message ids, payload markers)."""
    return f"{rng.getrandbits(4 * length):0{length}x}"

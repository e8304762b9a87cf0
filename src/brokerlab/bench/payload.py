"""Message bodies that carry their own timestamps, so any process can measure latency.

Every body starts with a 24-byte header: sequence number, *intended* send time and *actual* send
time, both ``time.monotonic_ns()`` (CLOCK_MONOTONIC: one clock for every process on a Linux host,
so a consumer can subtract a producer's timestamp). The rest is random filler made once, before
the timed loop; inside the loop only the header is packed and prepended.

A sequence number of -1 marks the producer's last message (the "sentinel"): the consumer stops
draining when it sees it.
"""

from __future__ import annotations

import os
import struct
from typing import NamedTuple

HEADER = struct.Struct(">qqq")
SENTINEL = -1
MIN_SIZE = HEADER.size


class Stamp(NamedTuple):
    """The header of one message."""

    seq: int
    intended_ns: int
    actual_ns: int


def filler(size: int) -> bytes:
    """The constant part of every body of ``size`` bytes (call it before the timed loop)."""
    if size < MIN_SIZE:
        raise ValueError(f"message size must be at least {MIN_SIZE} bytes (the timestamp header), "
                         f"got {size}")
    return os.urandom(size - HEADER.size)


def body(pad: bytes, seq: int, intended_ns: int, actual_ns: int) -> bytes:
    """One message body: header + the prepared filler."""
    return HEADER.pack(seq, intended_ns, actual_ns) + pad


def stamp(data: bytes) -> Stamp:
    """Read the header back (raises ValueError on a body that is not ours)."""
    if data is None or len(data) < HEADER.size:
        raise ValueError("not a benchmark message: shorter than its 24-byte header")
    return Stamp(*HEADER.unpack_from(data))

"""The charts of notebook 05 (ordering and persistence), drawn from what the notebook measured.

Plumbing only: the lesson shows the client calls that produce the numbers; these functions turn the
numbers into pictures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt


def fifo_vs_competing(fifo_order: Sequence[int], consumed: Sequence[tuple[int, str, bool]],
                      nack_every: int) -> None:
    """Left: message number by processing position for one consumer. Right: the same for competing
    consumers, redeliveries in red (``consumed`` = (number, consumer, redelivered) in order)."""
    _fig, (left_ax, right_ax) = plt.subplots(1, 2, figsize=(11, 4))
    left_ax.plot(fifo_order, linewidth=1)
    left_ax.set(title=f"one queue, one consumer ({len(fifo_order):,} messages)", xlabel="processing position",
                ylabel="message number")
    first = [(i, n) for i, (n, _, r) in enumerate(consumed) if not r]
    again = [(i, n) for i, (n, _, r) in enumerate(consumed) if r]
    if first:
        right_ax.scatter(*zip(*first, strict=True), s=3, label="first delivery")
    if again:
        right_ax.scatter(*zip(*again, strict=True), s=12, color="red", label="redelivered (after a nack)")
    right_ax.set(title=f"two consumers, B nacks every {nack_every}th once", xlabel="processing position")
    right_ax.legend()
    plt.tight_layout()
    plt.show()


def partitions_read(records: Sequence[tuple[str, int, int, int]]) -> None:
    """Global send position by consumption position, one colour per partition
    (``records`` = (key, per-key seq, send position, partition) in consumption order)."""
    _fig, ax = plt.subplots(figsize=(8, 4))
    for partition in sorted({p for *_, p in records}):
        points = [(i, pos) for i, (_, _, pos, p) in enumerate(records) if p == partition]
        ax.scatter(*zip(*points, strict=True), s=3, label=f"partition {partition}")
    ax.set(title=f"one consumer reading {len({p for *_, p in records})} partitions",
           xlabel="consumption position", ylabel="global send position")
    ax.legend()
    plt.show()


def restart_survivors(before: Mapping[str, int], after: Mapping[str, int | None], restart_s: float) -> None:
    """Messages per queue before and after a broker restart; a queue that vanished is marked."""
    labels = list(before)
    _fig, ax = plt.subplots(figsize=(8, 3.5))
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], [before[k] for k in labels], width=0.4, label="before the restart")
    ax.bar([x + 0.2 for x in xs], [after[k] or 0 for k in labels], width=0.4, label="after the restart")
    for x, k in zip(xs, labels, strict=True):
        if not after[k]:
            ax.text(x + 0.2, 3, "queue\ngone" if after[k] is None else "empty", ha="center", color="red")
    ax.set_xticks(list(xs), [k.replace(", ", ",\n") for k in labels])
    ax.set(ylabel="messages", title=f"RabbitMQ restart ({restart_s:.0f} s)")
    ax.legend()
    plt.show()

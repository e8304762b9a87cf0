"""Figures of the scaling curves (:mod:`brokerlab.bench.scale`): throughput and CPU per width."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from brokerlab.bench.scale import FAMILIES


def _lines(points: Sequence[dict], family: str, by: str) -> dict[str, list[dict]]:
    """The family's points grouped into lines by ``by`` ("producers" or "setting"), by width."""
    lines: dict[str, list[dict]] = {}
    for p in sorted((p for p in points if p["family"] == family), key=lambda p: p["width"]):
        lines.setdefault(str(p[by]), []).append(p)
    return lines


def curves(points: Sequence[dict], by: str = "producers", cpu_count: int = 2,
           title: str = "") -> Figure:
    """Top row: msg/s against partitions or queues, one panel a family, one line per ``by``
    value. Bottom row: cores used by the broker (solid) and the producers (dashed), with the
    machine's core count as a dotted line: where the two meet it, the machine is saturated."""
    families = [f for f in FAMILIES if any(p["family"] == f for p in points)]
    fig, axes = plt.subplots(2, len(families), figsize=(3.3 * len(families), 6.2), squeeze=False,
                             sharey="row")
    for col, family in enumerate(families):
        top, bottom = axes[0][col], axes[1][col]
        for i, (name, line) in enumerate(_lines(points, family, by).items()):
            xs = [p["width"] for p in line]
            color = f"C{i}"
            label = f"{name} producer(s)" if by == "producers" else name
            top.plot(xs, [p["msgs_per_s"] for p in line], "o-", color=color, label=label)
            bottom.plot(xs, [p["cpu"]["broker_cores"] for p in line], "o-", color=color)
            bottom.plot(xs, [p["cpu"]["client_cores"] for p in line], "s--", color=color, alpha=0.7)
        bottom.axhline(cpu_count, color="red", ls=":", lw=1)
        unit = "partitions" if family == "kafka" else ("streams" if "stream" in family else "queues")
        for ax in (top, bottom):
            ax.set_xscale("log", base=2)
            ax.set_xlabel(unit)
            ax.grid(alpha=0.3, which="both")
        top.set_yscale("log")
        top.set_title(family, fontsize=10)
        top.legend(fontsize=7)
    axes[0][0].set_ylabel("messages / s (1 KiB)")
    axes[1][0].set_ylabel(f"cores: broker —, producers - -\n(red: all {cpu_count})")
    fig.suptitle(title or "Publish throughput against width; CPU of broker and producers", fontsize=10)
    fig.tight_layout()
    return fig

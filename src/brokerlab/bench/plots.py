"""Matplotlib figures for lessons 06 and 07: medians with their range, CPU per process, latency.

Every function takes the configurations to draw (``ConfigResult``) and an optional ``ax`` /
``fig`` to draw into, so a widget can redraw the same figure with newly measured points appended.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from brokerlab.bench.results import ConfigResult

COLORS = {"kafka": "#1f77b4", "rabbitmq": "#ff7f0e"}


def _stats(c: ConfigResult, key: str) -> tuple[float, float, float]:
    s = c.summary.get(key) or {}
    med = s.get("median")
    if med is None:
        return math.nan, 0.0, 0.0
    return med, med - s["min"], s["max"] - med


def bars(configs: Sequence[ConfigResult], key: str = "msgs_per_s", ax: Axes | None = None,
         labels: Sequence[str] | None = None, title: str = "", ylabel: str = "messages / s",
         log: bool = False) -> Axes:
    """Median bars with min–max error bars, coloured by system."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.8))
    ax.clear()
    values = [_stats(c, key) for c in configs]
    xs = range(len(configs))
    ax.bar(xs, [v[0] for v in values], color=[COLORS.get(c.system, "grey") for c in configs],
           yerr=[[v[1] for v in values], [v[2] for v in values]], capsize=4, alpha=0.85)
    ax.set_xticks(list(xs), list(labels or [c.label for c in configs]), rotation=20, ha="right",
                  fontsize=8)
    for x, v in zip(xs, values, strict=True):
        if not math.isnan(v[0]):
            ax.annotate(f"{v[0]:,.0f}", (x, v[0]), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 2), textcoords="offset points")
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.set_title(title + "  (bar: median; whisker: min–max over runs)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return ax


def cpu(configs: Sequence[ConfigResult], ax: Axes | None = None,
        labels: Sequence[str] | None = None) -> Axes:
    """CPU per process (share of one core) in each configuration's median run."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.2))
    ax.clear()
    names = sorted({p["name"] for c in configs for p in c.cpu.get("processes", [])})
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        vals = [next((p["cores"] for p in c.cpu.get("processes", []) if p["name"] == name), 0.0)
                for c in configs]
        ax.bar([x + i * width for x in range(len(configs))], vals, width, label=name)
    ax.axhline(1.0, color="red", lw=1, ls="--", label="one full core")
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(configs))],
                  list(labels or [c.label for c in configs]), rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("cores (1.0 = one core)")
    ax.set_title("CPU per process during the measured window (median run)", fontsize=10)
    ax.legend(fontsize=7, ncol=3)
    return ax


def sweep(configs: Sequence[ConfigResult], param: str, system: str, fig: Figure | None = None,
          xlabel: str = "") -> Figure:
    """Throughput (left) and ack latency p50/p99 (right) against a swept parameter."""
    chosen = sorted((c for c in configs if c.system == system and param in c.workload),
                    key=lambda c: c.workload[param])
    if fig is None:
        fig = plt.figure(figsize=(10, 3.6))
    fig.clear()
    left, right = fig.subplots(1, 2)
    xs = [c.workload[param] for c in chosen]
    med = [_stats(c, "msgs_per_s") for c in chosen]
    left.errorbar(xs, [m[0] for m in med], yerr=[[m[1] for m in med], [m[2] for m in med]],
                  marker="o", capsize=4, color=COLORS[system])
    for key, style in (("ack_p50_ms", "o-"), ("ack_p99_ms", "s--")):
        vals = [_stats(c, key) for c in chosen]
        right.errorbar(xs, [v[0] for v in vals], yerr=[[v[1] for v in vals], [v[2] for v in vals]],
                       fmt=style, capsize=3, label=key.replace("ack_", "ack ").replace("_ms", ""),
                       color=COLORS[system])
    for ax in (left, right):
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlabel(xlabel or param)
        ax.grid(alpha=0.3)
    left.set_ylabel("messages / s (median, min–max)")
    right.set_ylabel("ack latency, ms")
    right.set_yscale("log")
    right.legend(fontsize=8)
    fig.suptitle(f"{system}: throughput vs ack latency as {xlabel or param} grows", fontsize=10)
    fig.tight_layout()
    return fig


def latency_vs_load(configs: Sequence[ConfigResult], fig: Figure | None = None,
                    extra: Sequence[ConfigResult] = ()) -> Figure:
    """p50/p99/p99.9 vs achieved rate per system: corrected (solid) and naive (dashed).

    ``extra`` configurations (e.g. re-runs from a widget) are drawn as stars: corrected p99."""
    if fig is None:
        fig = plt.figure(figsize=(10, 4))
    fig.clear()
    axes = fig.subplots(1, 2, sharey=True)
    for ax, system in zip(axes, ("kafka", "rabbitmq"), strict=True):
        chosen = sorted((c for c in configs if c.system == system),
                        key=lambda c: c.workload.get("rate") or 0)
        xs = [(c.summary.get("achieved_msgs_per_s") or {}).get("median") or c.workload["rate"]
              for c in chosen]
        for pct, marker in (("p50_ms", "o"), ("p99_ms", "s"), ("p999_ms", "^")):
            for kind, ls in (("corrected", "-"), ("naive", "--")):
                ys = [c.latency.get("e2e", {}).get("summary", {}).get(kind, {}).get(pct) for c in chosen]
                label = f"{pct[:-3].replace('p999', 'p99.9')} {kind}"
                ax.plot(xs, ys, ls=ls, marker=marker, label=label, alpha=0.9 if kind == "corrected" else 0.6)
        for c in (c for c in extra if c.system == system):
            x = (c.summary.get("achieved_msgs_per_s") or {}).get("median") or c.workload["rate"]
            y = c.latency.get("e2e", {}).get("summary", {}).get("corrected", {}).get("p99_ms")
            ax.plot([x], [y], marker="*", markersize=14, ls="none", color="black",
                    label="p99 corrected (your re-run)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("achieved messages / s")
        ax.set_title(f"{system} (D1, open loop)", fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("end-to-end latency, ms")
    axes[1].legend(fontsize=7, ncol=2)
    fig.suptitle("Latency vs offered load — solid: from intended send time (corrected); "
                 "dashed: from actual send time (naive)", fontsize=9)
    fig.tight_layout()
    return fig


PERCENTILE_TICKS = (50.0, 90.0, 99.0, 99.9, 99.99, 100.0)


def percentiles(configs: Sequence[ConfigResult], fig: Figure | None = None,
                titles: Sequence[str] | None = None) -> Figure:
    """Latency by percentile (50 … max), corrected (solid) and naive (dashed), one panel each."""
    from brokerlab.bench.histogram import LatencyRecorder

    if fig is None:
        fig = plt.figure(figsize=(10, 3.8))
    fig.clear()
    axes = fig.subplots(1, len(configs), sharey=True, squeeze=False)[0]
    xs = [1 / (1 - p / 100) if p < 100 else 1e5 for p in PERCENTILE_TICKS]
    for i, (ax, c) in enumerate(zip(axes, configs, strict=True)):
        rec = LatencyRecorder.decode(c.latency["e2e"]["histograms"])
        for hist, kind, ls in ((rec.corrected, "corrected (from intended time)", "-"),
                               (rec.naive, "naive (from actual send time)", "--")):
            ys = [hist.get_value_at_percentile(p) / 1000 for p in PERCENTILE_TICKS]
            ax.plot(xs, ys, ls=ls, marker="o", color=COLORS[c.system], label=kind)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(xs, ["p50", "p90", "p99", "p99.9", "p99.99", "max"], fontsize=8)
        ax.set_title(titles[i] if titles else c.label, fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("end-to-end latency, ms")
    fig.tight_layout()
    return fig

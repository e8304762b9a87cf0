"""Text the notebooks print: result tables, and the load generators' source for learners to read."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable

from brokerlab.bench.results import ConfigResult


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format(value, spec)


def table(configs: Iterable[ConfigResult], latency: bool = False) -> str:
    """One line per configuration: median msgs/s [min–max], MiB/s, ack/e2e latency, CPU verdict."""
    lines = []
    head = f"{'configuration':62s} {'msgs/s median [min–max]':>28s} {'MiB/s':>7s}"
    head += f" {'p50 ms':>8s} {'p99 ms':>8s}" if latency else ""
    lines.append(head + "  bound")
    for c in configs:
        s = c.summary["msgs_per_s"]
        rate = f"{_fmt(s['median'])} [{_fmt(s['min'])}–{_fmt(s['max'])}]"
        line = f"{c.label[:62]:62s} {rate:>28s} {_fmt(c.median('MiB_per_s'), '.1f'):>7s}"
        if latency:
            p50 = c.summary.get("ack_p50_ms") or c.summary.get("p50_ms") or {}
            p99 = c.summary.get("ack_p99_ms") or c.summary.get("p99_ms") or {}
            line += f" {_fmt(p50.get('median'), '.2f'):>8s} {_fmt(p99.get('median'), '.2f'):>8s}"
        lines.append(f"{line}  {c.bound}")
    return "\n".join(lines)


def cpu_lines(config: ConfigResult) -> str:
    """CPU per process of the configuration's median run, and why it is classified as it is."""
    cpu = config.cpu
    parts = [f"{p['name']} {p['cores']:.0%} (peak {p['peak_cores']:.0%})" for p in cpu.get("processes", [])]
    return (f"{config.label}\n    CPU of one core: " + ", ".join(parts) +
            f"; machine {cpu.get('machine_busy', 0):.0%} busy\n    → {cpu.get('bound')}: "
            f"{cpu.get('reason')}")


def show_source(*objects: Callable | type) -> None:
    """Display the source of load-generator functions or classes, highlighted, in the notebook."""
    from IPython.display import Code, display

    display(Code("\n\n".join(inspect.getsource(o) for o in objects), language="python"))

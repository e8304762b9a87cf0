"""Live-updating line charts for the labs: sample a metric every interval, redraw one figure in place."""

from __future__ import annotations

import time
from collections.abc import Callable

import matplotlib

from brokerlab.errors import BrokerlabError

Sample = Callable[[], dict[str, float]]


class LiveChart:
    """One matplotlib figure, updated in place in the notebook as samples arrive."""

    def __init__(self, title: str, ylabel: str, xlabel: str = "seconds") -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.series: dict[str, tuple[list[float], list[float]]] = {}
        self.fig, self.ax = plt.subplots(figsize=(8, 3.5))
        self.ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        self.ax.grid(alpha=0.3)
        plt.close(self.fig)  # shown through the display handle only, never twice
        self._handle = display(self.fig, display_id=True)

    def add(self, x: float, values: dict[str, float]) -> None:
        """Append one point per series and redraw."""
        for name, value in values.items():
            xs, ys = self.series.setdefault(name, ([], []))
            xs.append(x)
            ys.append(value)
        for line in list(self.ax.lines):
            line.remove()
        for name, (xs, ys) in self.series.items():
            self.ax.plot(xs, ys, label=name, marker=".")
        self.ax.relim()
        self.ax.autoscale_view()
        if self.series:
            self.ax.legend(loc="upper left", fontsize="small")
        if self._handle is not None:
            self._handle.update(self.fig)

    def watch(self, sample: Sample, seconds: float, interval: float = 1.0,
              until: Callable[[dict[str, float]], bool] | None = None) -> dict[str, list[float]]:
        """Sample for at most ``seconds`` (or until ``until(values)`` is true); returns the series."""
        if seconds <= 0 or interval <= 0:
            raise BrokerlabError("LiveChart.watch needs seconds > 0 and interval > 0.")
        start = time.monotonic()
        while True:
            values = sample()
            self.add(round(time.monotonic() - start, 2), values)
            if until is not None and until(values):
                break
            if time.monotonic() - start + interval > seconds:
                break
            time.sleep(interval)
        return {name: ys for name, (_xs, ys) in self.series.items()}


matplotlib.rcParams.setdefault("figure.dpi", 100)

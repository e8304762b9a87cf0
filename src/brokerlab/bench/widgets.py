"""A panel to re-run one configuration with other parameters, validated before anything runs.

Wrong values (a 10-byte message, a negative rate, a stream with auto-ack…) produce a clear
message and no run. A valid click runs the configuration ``mode.runs`` times with a progress bar
and hands the result to ``on_result`` (the notebook appends it to its plot).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import ipywidgets as w

from brokerlab.bench.experiments import Bench
from brokerlab.bench.results import ConfigResult
from brokerlab.bench.workload import ACKS, QUEUE_TYPES, Workload, ladder

FROM_RUNG = "(from rung)"


class RerunPanel:
    """Controls for one workload: system, rung, size, rate, acks, linger, confirm window, prefetch,
    queue type; a Run button, a progress bar and a message line."""

    def __init__(self, bench: Bench, on_result: Callable[[ConfigResult], None], *,
                 latency: bool = False, consumer_only: bool = False, **defaults: object) -> None:
        self.bench, self.on_result = bench, on_result
        self.latency, self.consumer_only = latency, consumer_only
        self.results: list[ConfigResult] = []
        self.last_error: str | None = None
        style = {"description_width": "110px"}
        lay = w.Layout(width="230px")
        self.system = w.Dropdown(options=["kafka", "rabbitmq"], value=defaults.get("system", "kafka"),
                                 description="system", style=style, layout=lay)
        self.rung = w.Dropdown(options=["D0", "D1", "D2"], value=defaults.get("rung", "D1"),
                               description="durability", style=style, layout=lay)
        self.size = w.IntText(value=defaults.get("size", 1024), description="message bytes",
                              style=style, layout=lay)
        self.rate = w.IntText(value=defaults.get("rate", 2000 if latency else 0),
                              description="rate msg/s (0=max)" if not latency else "rate msg/s",
                              style=style, layout=lay)
        self.acks = w.Dropdown(options=[FROM_RUNG, *ACKS], value=FROM_RUNG, description="Kafka acks",
                               style=style, layout=lay)
        self.linger = w.IntText(value=defaults.get("linger_ms", 1 if latency else 5),
                                description="Kafka linger.ms", style=style, layout=lay)
        self.window = w.IntText(value=defaults.get("confirm_window", 100), description="confirm window",
                                style=style, layout=lay)
        self.prefetch = w.IntText(value=defaults.get("prefetch", 100), description="prefetch",
                                  style=style, layout=lay)
        self.queue_type = w.Dropdown(options=[FROM_RUNG, *QUEUE_TYPES], value=FROM_RUNG,
                                     description="queue type", style=style, layout=lay)
        self.button = w.Button(description="Run", icon="play", button_style="primary")
        self.progress = w.IntProgress(value=0, min=0, max=bench.mode.runs, description="runs")
        self.message = w.HTML("")
        self.button.on_click(self.run)

    def set(self, **values: object) -> RerunPanel:
        """Set controls by name (``size=10``, ``system="rabbitmq"``…); for scripted use and tests."""
        for name, value in values.items():
            getattr(self, name).value = value
        return self

    def workload(self) -> Workload:
        """The workload the controls describe (ValueError with a clear message when invalid)."""
        if self.latency and self.rate.value <= 0:
            raise ValueError(f"a latency run needs a positive rate, got {self.rate.value}")
        if self.rate.value < 0:
            raise ValueError(f"rate must be 0 (as fast as possible) or positive, got {self.rate.value}")
        overrides: dict = {"size": self.size.value, "rate": self.rate.value or None,
                           "linger_ms": self.linger.value, "confirm_window": self.window.value,
                           "prefetch": self.prefetch.value}
        if self.acks.value != FROM_RUNG:
            overrides["acks"] = self.acks.value
        if self.queue_type.value != FROM_RUNG:
            overrides["queue_type"] = self.queue_type.value
        return ladder(self.system.value, self.rung.value, **overrides)

    def run(self, _button: object = None) -> ConfigResult | None:
        """Validate, then run (blocking) with the progress bar; None when the values are invalid."""
        try:
            workload = self.workload()
        except ValueError as exc:
            self.last_error = str(exc)
            self.message.value = f"<b style='color:#c62828'>✘ Not run:</b> {escape(str(exc))}"
            return None
        self.last_error = None
        self.progress.value = 0
        self.button.disabled = True
        self.message.value = f"running <code>{escape(workload.label)}</code> …"

        def tick() -> None:
            self.progress.value += 1

        try:
            duration = self.bench.mode.latency_duration_s if self.latency else None
            result = self.bench.python(workload, consumer_only=self.consumer_only, progress=tick,
                                       duration_s=duration, fresh=True)
        except Exception as exc:  # a broker problem: say so in the panel, keep the notebook alive
            self.last_error = str(exc)
            self.message.value = f"<b style='color:#c62828'>✘ Failed:</b> {escape(str(exc))}"
            return None
        finally:
            self.button.disabled = False
        self.results.append(result)
        s = result.summary["msgs_per_s"]
        self.message.value = (f"✔ {escape(result.label)}: median {s['median']:,.0f} msg/s "
                              f"[{s['min']:,.0f}–{s['max']:,.0f}], {result.bound} — added to the plot")
        self.on_result(result)
        return result

    def widget(self) -> w.Widget:
        """The panel, ready for ``display()``."""
        controls = [self.system, self.rung, self.size, self.rate, self.acks, self.linger, self.window,
                    self.prefetch, self.queue_type]
        grid = w.GridBox(controls, layout=w.Layout(grid_template_columns="repeat(3, 240px)"))
        return w.VBox([grid, w.HBox([self.button, self.progress]), self.message])

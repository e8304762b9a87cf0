"""Latency recording in HdrHistogram, corrected for coordinated omission, with the naive figure kept.

Each message carries its *intended* send time (when an open-loop schedule said it should go) and
its *actual* send time. Latency from the intended time is the honest figure: if the sender stalls,
every message that should have left during the stall is charged for the wait. Latency from the
actual send time is what most tools report ("naive"); it hides stalls. Both come from the same
messages, so the difference is exactly the coordinated omission.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 120_000_000  # two minutes: anything slower is clamped there (and visible as max)
SIGNIFICANT_FIGURES = 3
PERCENTILES = (50.0, 99.0, 99.9)


def new_histogram() -> HdrHistogram:
    """An empty histogram in microseconds, 1 µs to 120 s, 3 significant figures."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)


def record_us(hist: HdrHistogram, value_ns: int) -> None:
    """Record a latency given in nanoseconds (clamped into the histogram's range)."""
    hist.record_value(min(max(value_ns // 1000, LOWEST_US), HIGHEST_US))


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles in milliseconds and the sample count of one histogram."""

    count: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float

    @property
    def p999_reliable(self) -> bool:
        """p99.9 means something only with at least 10^4 samples."""
        return self.count >= 10_000

    def as_dict(self) -> dict:
        return {**asdict(self), "p999_reliable": self.p999_reliable}


def summarize(hist: HdrHistogram) -> LatencySummary:
    """p50/p99/p99.9/max/mean (ms) and the count."""
    if hist.get_total_count() == 0:
        return LatencySummary(0, float("nan"), float("nan"), float("nan"), float("nan"), float("nan"))
    p50, p99, p999 = (hist.get_value_at_percentile(p) / 1000 for p in PERCENTILES)
    return LatencySummary(hist.get_total_count(), p50, p99, p999, hist.get_max_value() / 1000,
                          hist.get_mean_value() / 1000)


class LatencyRecorder:
    """Two histograms over the same messages: from intended send time and from actual send time."""

    def __init__(self) -> None:
        self.corrected = new_histogram()
        self.naive = new_histogram()

    def record(self, now_ns: int, intended_ns: int, actual_ns: int) -> None:
        """One message observed at ``now_ns``."""
        record_us(self.corrected, now_ns - intended_ns)
        record_us(self.naive, now_ns - actual_ns)

    @property
    def count(self) -> int:
        return self.corrected.get_total_count()

    def encode(self) -> dict[str, str]:
        """A picklable / JSON-able form (HdrHistogram's compressed base64 encoding)."""
        return {"corrected": self.corrected.encode().decode(), "naive": self.naive.encode().decode()}

    @classmethod
    def decode(cls, data: dict[str, str]) -> LatencyRecorder:
        rec = cls()
        rec.corrected = HdrHistogram.decode(data["corrected"].encode())
        rec.naive = HdrHistogram.decode(data["naive"].encode())
        return rec

    def merge(self, other: LatencyRecorder) -> LatencyRecorder:
        """Add another recorder's samples to this one (returns self)."""
        self.corrected.add(other.corrected)
        self.naive.add(other.naive)
        return self

    def summary(self) -> dict[str, dict]:
        return {"corrected": summarize(self.corrected).as_dict(),
                "naive": summarize(self.naive).as_dict()}


def open_loop_schedule(start_ns: int, rate: float, n: int) -> list[int]:
    """The intended send times of ``n`` messages at ``rate`` msgs/s from ``start_ns``."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    interval = 1e9 / rate
    return [start_ns + round(i * interval) for i in range(n)]

"""How long to measure: ``quick`` (CI, each notebook well under 3 min) or ``full`` (a learner's run).

Both modes run the same code paths with the same number of runs per configuration; only
durations, counts and the number of points in each sweep differ. The notebooks and the CLI
pick ``quick`` when ``BROKERLAB_BENCH_MODE=quick`` (the Makefile's test target exports it).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace

from brokerlab.errors import BrokerlabError

ENV = "BROKERLAB_BENCH_MODE"


@dataclass(frozen=True)
class Mode:
    """Durations and counts of one benchmark mode."""

    name: str
    warmup_s: float  # discarded at the start of every run, inside the same processes
    duration_s: float  # the measured window of every run
    runs: int  # measured runs per configuration (median and range are reported)
    drain_s: float  # how long a latency consumer may wait for the last messages
    native_records: int  # records per ProducerPerformance run
    perftest_seconds: int  # PerfTest -z (its first second is treated as warm-up)
    loopback_mb: int  # MiB pushed through loopback TCP
    fsync_samples: int  # write+fsync calls for the disk's latency
    latency_rates: tuple[int, ...]  # offered loads for E4, msgs/s
    latency_duration_s: float  # measured window per E4 step
    prefill_messages: int  # messages written before a consumer-only (E5) Kafka run
    lingers: tuple[int, ...]  # E3: Kafka linger.ms values
    windows: tuple[int, ...]  # E3: RabbitMQ confirm windows
    prefetches: tuple[int, ...]  # E5: RabbitMQ prefetch counts
    scale_partitions: tuple[int, ...]  # Kafka partitions of the scaling curves
    scale_queues: tuple[int, ...]  # RabbitMQ queues (or streams) of the scaling curves
    scale_producers: tuple[int, ...]  # producer processes at every point of the scaling curves
    scale_warmup_s: float  # warm-up of one scaling point
    scale_duration_s: float  # measured window of one scaling point (one run per point)

    def as_dict(self) -> dict:
        return asdict(self)

    def with_(self, **changes: object) -> Mode:
        """A copy with some fields changed (e.g. more runs)."""
        return replace(self, **changes)  # type: ignore[arg-type]


QUICK = Mode("quick", warmup_s=0.1, duration_s=0.3, runs=3, drain_s=3.0, native_records=20_000,
             perftest_seconds=2, loopback_mb=128, fsync_samples=100,
             latency_rates=(500, 2000, 5000, 10_000), latency_duration_s=1.0,
             prefill_messages=30_000, lingers=(0, 5), windows=(1, 100), prefetches=(1, 100),
             scale_partitions=(1, 4), scale_queues=(1, 4),
             scale_producers=(1, 2), scale_warmup_s=0.2, scale_duration_s=0.5)
FULL = Mode("full", warmup_s=0.5, duration_s=1.5, runs=3, drain_s=5.0, native_records=300_000,
            perftest_seconds=5, loopback_mb=512, fsync_samples=500,
            latency_rates=(500, 1000, 2000, 5000, 10_000, 20_000), latency_duration_s=3.0,
            prefill_messages=100_000, lingers=(0, 1, 5, 20), windows=(1, 10, 100, 1000),
            prefetches=(1, 10, 100, 1000), scale_partitions=(1, 2, 4, 8, 16), scale_queues=(1, 2, 4, 8),
            scale_producers=(1, 2, 4), scale_warmup_s=0.3, scale_duration_s=1.0)
MODES = {"quick": QUICK, "full": FULL}


def current(name: str | None = None) -> Mode:
    """The mode named here, else ``$BROKERLAB_BENCH_MODE``, else ``full``."""
    chosen = (name or os.environ.get(ENV) or "full").strip().lower()
    if chosen not in MODES:
        raise BrokerlabError(f"Benchmark mode {chosen!r} is not one of {', '.join(MODES)}.",
                             f"Unset {ENV} or set it to quick (CI) or full.")
    return MODES[chosen]

"""The named experiments of lessons 06 and 07 (E1–E5) and ``calibrate``, on one :class:`Bench`.

Each experiment returns an :class:`~brokerlab.bench.results.Experiment` (saved as JSON by the
CLI). A :class:`Bench` caches results by workload, so a configuration two experiments share
(E1's Python D1 runs are also E2's D1 rungs) is measured once per session and reported in both.
Sweeps (E3) measure every point afresh.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from brokerlab import settings
from brokerlab.bench import machine, runner, topology
from brokerlab.bench.mode import Mode, current
from brokerlab.bench.procs import Window
from brokerlab.bench.results import ConfigResult, Experiment, spread
from brokerlab.bench.workload import Workload, ladder
from brokerlab.brokers import maven
from brokerlab.brokers.management import Management
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints

Progress = Callable[[], None]
STOP_BELOW = 0.95  # E4 stops raising the rate when achieved < 95 % of the target


def _noop() -> None:
    return None


@dataclass
class Bench:
    """One benchmarking session: where the brokers are, how long to measure, what was measured."""

    mode: Mode = field(default_factory=current)
    ep: Endpoints = field(default_factory=settings.endpoints)
    _cache: dict[str, ConfigResult] = field(default_factory=dict, repr=False)
    _machine: dict | None = field(default=None, repr=False)
    _topics: dict[int, str] = field(default_factory=dict, repr=False)

    def python(self, w: Workload, consumer_only: bool = False, progress: Progress = _noop,
               duration_s: float | None = None, fresh: bool = False,
               during: Callable[[Window], None] | None = None) -> ConfigResult:
        """The Python generators on ``w`` (cached for this session unless ``fresh`` or ``during``)."""
        key = f"py|{sorted(w.as_dict().items())}|{consumer_only}|{duration_s}"
        if fresh or during is not None or key not in self._cache:
            filled = self.prefilled_topic(w.size) if consumer_only and w.system == "kafka" else None
            result = runner.run_python(w, self.mode, self.ep, consumer_only=consumer_only,
                                       duration_s=duration_s, progress=progress, during=during,
                                       prefilled_topic=filled)
            if during is None:  # a run with a disturbance is not the configuration's measurement
                self._cache[key] = result
            return result
        for _ in range(self.mode.runs):
            progress()
        return self._cache[key]

    def prefilled_topic(self, size: int) -> str:
        """A Kafka topic holding ``mode.prefill_messages`` messages of ``size`` bytes, made once
        per session for the consumer-only runs (deleted by :meth:`close`)."""
        if size not in self._topics:
            if not self._topics:  # a notebook stopped by an error still deletes it at exit
                atexit.register(self.close)
            name = topology.unique_name(f"filled-{size}")
            topology.create_topic(self.ep, name)
            runner.fill_topic(self.ep, name, size, self.mode.prefill_messages)
            self._topics[size] = name
        return self._topics[size]

    def close(self) -> None:
        """Delete what the session kept between experiments (the prefilled topics)."""
        if self._topics:
            topology.discard_kafka(self.ep, topics=list(self._topics.values()))
            self._topics.clear()

    def native(self, w: Workload, progress: Progress = _noop) -> ConfigResult:
        """The broker's own tool on ``w`` (cached for this session)."""
        key = f"native|{sorted(w.as_dict().items())}"
        if key not in self._cache:
            self._cache[key] = runner.run_native(w, self.mode, self.ep, progress=progress)
        else:
            for _ in range(self.mode.runs):
                progress()
        return self._cache[key]

    def machine_limits(self) -> dict:
        """The disk's fsync latency (in the brokers' data dir) and loopback TCP throughput."""
        if self._machine is None:
            where = settings.data_dir() / "run" / "single" if self.ep.source == "native" \
                else settings.data_dir()
            self._machine = {"fsync": machine.fsync_latency(where, self.mode.fsync_samples),
                             "loopback": machine.loopback_throughput(self.mode.loopback_mb)}
        return self._machine

    def brokers(self) -> dict:
        """Broker versions (Kafka's only when the course started it; RabbitMQ from its API)."""
        kafka = None
        if self.ep.source == "native":
            kafka = maven.KAFKA.version()
        rabbit = Management.of(self.ep, timeout=3).version()
        from brokerlab.brokers.kafka_native import java_executable, java_major_version

        try:
            java: int | None = java_major_version(java_executable())
        except BrokerlabError:
            java = None
        return {"source": self.ep.source, "kafka": kafka, "rabbitmq": rabbit,
                "kafka_bootstrap_servers": self.ep.kafka_bootstrap_servers,
                "tools": {"perftest": maven.PERFTEST.version(), "kafka_perf_tools": kafka, "java": java}}

    def experiment(self, name: str, title: str) -> Experiment:
        """An empty experiment record with the environment and the machine's limits filled in."""
        return Experiment(name, title, self.mode.as_dict(), machine.environment(),
                          self.machine_limits(), self.brokers())


def steps(name: str, mode: Mode) -> int:
    """How many runs an experiment makes (for progress bars)."""
    r = mode.runs
    return {"E1": 4 * r, "E2": 6 * r, "E3": len(e3_workloads(mode)) * r,
            "E5": (len(e5_workloads(mode)) + 1) * r,  # + Kafka's ConsumerPerformance
            "E4": 2 * len(mode.latency_rates) * r, "calibrate": 4 * r}[name]


RUN_OVERHEAD_S = 1.0  # per run: starting processes, connecting, topology, collecting results
JVM_START_S = 2.5  # per native-tool run: a JVM starting and warming up


def estimate_s(name: str, mode: Mode) -> float:
    """About how long an experiment takes in ``mode``, in seconds (for the estimate a notebook
    prints before it starts). Native-tool runs add a JVM start each."""
    window = mode.latency_duration_s if name == "E4" else mode.duration_s
    total = steps(name, mode) * (mode.warmup_s + window + RUN_OVERHEAD_S)
    if name in ("E1", "calibrate"):  # PerfTest runs for its -z seconds; ProducerPerformance +1 warm-up
        total += mode.runs * (mode.perftest_seconds + JVM_START_S) + (mode.runs + 1) * JVM_START_S
    return total


def e1_pairs(size: int = 1024) -> list[tuple[Workload, str]]:
    """E1 and calibrate: the same workload for the Python client and the native tool, at D1.

    Kafka: producer only (``ProducerPerformance`` runs no consumer). RabbitMQ: one producer with
    100 confirms in flight and one consumer (prefetch 100, manual acks), as PerfTest ``-x 1 -y 1``.
    """
    return [(ladder("kafka", "D1", size=size, consumer=False), "kafka"),
            (ladder("rabbitmq", "D1", size=size, confirm_window=100, prefetch=100), "rabbitmq")]


def e1_ceilings(bench: Bench, progress: Progress = _noop, size: int = 1024) -> Experiment:
    """Python client vs the native tool on each broker, with CPU per process."""
    exp = bench.experiment("E1", "Ceilings: Python client vs native tool, same broker and workload")
    for w, _ in e1_pairs(size):
        exp.configs.append(bench.python(w, progress=progress))
        exp.configs.append(bench.native(w, progress=progress))
    return exp.finish()


# calibrate's Python harness: producer processes per broker. One pika connection publishes and
# handles its confirms on one thread, and one confluent-kafka producer pays Python's cost per
# produce() and per delivery report on one core; the native tools run their I/O on threads of
# their own beside the thread that publishes. The broker-side settings stay the native tool's.
CALIBRATE_PRODUCERS = {"kafka": 2, "rabbitmq": 2}


def calibrate_pairs(size: int = 1024) -> list[tuple[Workload, Workload]]:
    """calibrate: per broker, (the Python harness's workload, the native tool's). The same topic or
    queue, messages, durability, confirm window per producer, prefetch and consumer on both sides;
    the Python side runs :data:`CALIBRATE_PRODUCERS` producer processes."""
    return [(w.with_(producers=CALIBRATE_PRODUCERS[w.system]), w) for w, _ in e1_pairs(size)]


def _settings(w: Workload) -> dict:
    """The broker-side settings of a calibrate workload, as the JSON states them."""
    if w.system == "kafka":
        return {"topic": {"partitions": 1, "replication_factor": 1}, "acks": w.acks,
                "linger.ms": w.linger_ms, "batch.size": w.batch_size, "message_bytes": w.size,
                "consumer": w.consumer}
    return {"queue": {"type": w.queue_type, "durable": w.durable}, "persistent": w.persistent,
            "confirm_window_per_producer": w.confirm_window, "prefetch": w.prefetch,
            "consumer": w.consumer, "auto_ack": w.auto_ack, "message_bytes": w.size}


def _range(config: ConfigResult) -> list[int]:
    s = config.summary["msgs_per_s"]
    return [round(s["min"]), round(s["max"])]


def calibrate(bench: Bench, progress: Progress = _noop) -> dict:
    """Per broker: python_msgs_per_s, native_msgs_per_s and their ratio (1 KiB, D1 on both), with
    the settings both tools used and the machine's load average before and after."""
    exp = bench.experiment("calibrate", "Python harness vs native tool, same broker and settings")
    out: dict = {"mode": bench.mode.name, "message_bytes": 1024, "durability": "D1",
                 "load_average_1m_before": round(os.getloadavg()[0], 2)}
    for py_w, native_w in calibrate_pairs():
        py, nat = bench.python(py_w, progress=progress), bench.native(native_w, progress=progress)
        exp.configs += [py, nat]
        p, n = py.median(), nat.median()
        command = nat.runs[0]["tool"].get("command", [])
        out[py_w.system] = {
            "python_msgs_per_s": round(p), "native_msgs_per_s": round(n),
            "ratio": round(p / n, 3) if n else None, "native_tool": nat.client,
            "python_range": _range(py), "native_range": _range(nat),
            "python_bound": py.bound, "native_bound": nat.bound, "workload": py.label,
            "settings": _settings(native_w),
            "python_harness": {"producer_processes": py_w.producers,
                               "consumer_processes": int(py_w.consumer),
                               "client": "confluent-kafka" if py_w.system == "kafka" else "pika"},
            "native_harness": {"command": [a for a in command if not a.startswith("bootstrap")]},
            "load_average_1m_after": round(os.getloadavg()[0], 2)}
    out["experiment"] = exp.finish().to_dict()
    return out


def e2_ladder(bench: Bench, progress: Progress = _noop, size: int = 1024) -> Experiment:
    """D0/D1/D2 on both systems (Kafka producer only; RabbitMQ with its consumer)."""
    exp = bench.experiment("E2", "Durability ladder D0/D1/D2")
    for system in ("kafka", "rabbitmq"):
        for rung in ("D0", "D1", "D2"):
            w = ladder(system, rung, size=size, consumer=system == "rabbitmq")  # type: ignore[arg-type]
            exp.configs.append(bench.python(w, progress=progress))
    return exp.finish()


def e3_batching(bench: Bench, progress: Progress = _noop, size: int = 1024) -> Experiment:
    """linger.ms sweep (Kafka) and confirm-window sweep (RabbitMQ) at D1, plus one-at-a-time.

    Every point is measured afresh, back to back, so that a sweep's shape is not distorted by
    a point measured earlier under another load of the machine."""
    exp = bench.experiment("E3", "Batching and confirm windows: throughput vs ack latency")
    for w in e3_workloads(bench.mode, size):
        exp.configs.append(bench.python(w, progress=progress, fresh=True))
    return exp.finish()


def e3_workloads(mode: Mode, size: int = 1024) -> list[Workload]:
    """E3's points: the mode's linger.ms and confirm windows at D1, and one-at-a-time on each side."""
    points = [ladder("kafka", "D1", size=size, consumer=False, linger_ms=linger) for linger in mode.lingers]
    points.append(ladder("kafka", "D1", size=size, consumer=False, linger_ms=0, one_at_a_time=True))
    points += [ladder("rabbitmq", "D1", size=size, confirm_window=window) for window in mode.windows]
    points.append(ladder("rabbitmq", "D1", size=size, publish_mode="each-confirm"))
    return points


def e5_consumers(bench: Bench, progress: Progress = _noop, size: int = 1024) -> Experiment:
    """Consumers alone on a filled queue/topic: prefetch sweep and auto-ack; poll() vs consume(500)."""
    exp = bench.experiment("E5", "Consumer side: prefetch, auto-ack, poll-one vs consume(500)")
    for w in e5_workloads(bench.mode, size):
        exp.configs.append(bench.python(w, consumer_only=True, progress=progress))
    exp.configs.append(runner.native_consumer(bench.ep, bench.mode, bench.prefilled_topic(size),
                                              bench.mode.prefill_messages, size, progress=progress))
    return exp.finish()


def e5_workloads(mode: Mode, size: int = 1024) -> list[Workload]:
    """E5's Python consumers: RabbitMQ at the mode's prefetch counts and with auto-ack, Kafka
    ``poll()`` one at a time and ``consume(500)``."""
    points = [ladder("rabbitmq", "D1", size=size, prefetch=prefetch) for prefetch in mode.prefetches]
    points.append(ladder("rabbitmq", "D1", size=size, auto_ack=True, prefetch=0))
    return points + [ladder("kafka", "D1", size=size, consume_mode=m) for m in ("one", "batch")]


def latency_workload(system: str, rate: int, size: int = 1024, **overrides: object) -> Workload:
    """E4's workload: D1 on both, open loop at ``rate``. Kafka: ``linger.ms=1`` and a consumer
    that ``poll()``s one message per call — ``consume(num_messages=500, timeout)`` waits for 500
    messages or the timeout, which would add up to the timeout to every latency at low rates."""
    extra: dict = {"linger_ms": 1, "consume_mode": "one"} if system == "kafka" else {}
    return ladder(system, "D1", size=size, rate=rate, **{**extra, **overrides})  # type: ignore[arg-type]


def achieved_rates(config: ConfigResult) -> list[float]:
    """Per run, the delivered rate: min(sent, received-and-recorded) / window."""
    values = []
    for run in config.runs:
        sent = run["producer"]["sent"]
        got = run["consumer"]["recorded"] if run.get("consumer") else sent
        values.append(min(sent, got) / run["window_s"])
    return values


def e4_latency(bench: Bench, progress: Progress = _noop, size: int = 1024,
               rates: tuple[int, ...] | None = None, systems: tuple[str, ...] = ("kafka", "rabbitmq"),
               **overrides: object) -> Experiment:
    """Open-loop latency vs offered load, both systems at D1; stops when achieved < 95 % of target."""
    exp = bench.experiment("E4", "Latency vs offered load (open loop, corrected and naive)")
    for system in systems:
        for rate in rates or bench.mode.latency_rates:
            w = latency_workload(system, rate, size, **overrides)
            cfg = bench.python(w, progress=progress, duration_s=bench.mode.latency_duration_s)
            cfg.summary["achieved_msgs_per_s"] = spread(achieved_rates(cfg))
            achieved = cfg.summary["achieved_msgs_per_s"]["median"] or 0.0
            cfg.workload["target_msgs_per_s"] = rate
            exp.configs.append(cfg)
            if achieved < STOP_BELOW * rate:
                exp.notes.append(f"{system}: achieved {achieved:.0f} msgs/s < 95 % of the target "
                                 f"{rate} msgs/s: higher rates skipped")
                break
    return exp.finish()


EXPERIMENTS: dict[str, Callable[..., Experiment]] = {
    "E1": e1_ceilings, "E2": e2_ladder, "E3": e3_batching, "E4": e4_latency, "E5": e5_consumers}

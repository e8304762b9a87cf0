"""Measure one workload: N runs (each after a warm-up), median and range, CPU per process.

:func:`run_python` drives the course's Python load generators (separate processes);
:func:`run_native` drives the broker's own tool on the same broker with the same settings.
Both return a :class:`~brokerlab.bench.results.ConfigResult`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from brokerlab.bench import kafka_load, native, procs, rabbit_load, topology
from brokerlab.bench.histogram import LatencyRecorder
from brokerlab.bench.mode import Mode
from brokerlab.bench.results import ConfigResult, summarize_runs
from brokerlab.bench.workload import Workload
from brokerlab.settings import Endpoints

Progress = Callable[[], None]
KEYS = ("msgs_per_s", "MiB_per_s", "consumer_msgs_per_s", "e2e_p50_ms", "e2e_p99_ms",
        "e2e_p999_ms", "e2e_naive_p99_ms", "ack_p50_ms", "ack_p99_ms")
# At most this many messages wait in a RabbitMQ queue for a consumer-only run. A consumer that
# empties the queue early is measured up to its last message. Filling is not free: 31,000 1-KiB
# messages raised the course broker's RSS from about 160 to 380-500 MiB (memory outside Erlang's
# allocators), past its 384 MiB watermark, and the next fill waited until the alarm cleared.
RABBIT_PREFILL_CAP = 100_000
NATIVE_KEYS = ("msgs_per_s", "MiB_per_s", "consumer_msgs_per_s", "p50_ms", "p99_ms")


def broker_pids(ep: Endpoints, system: str) -> dict[str, list[int]]:
    """PIDs of the broker under test when it is the course's native one (else nothing)."""
    if ep.source != "native":
        return {}
    from brokerlab.brokers import native as native_backend

    deployment = native_backend.single()
    nodes = deployment.kafka if system == "kafka" else deployment.rabbit
    return {f"{system} broker": [pid for n in nodes for pid in n.pids()]}


def _noop() -> None:
    return None


def _strip(d: dict | None) -> dict | None:
    return None if d is None else {k: v for k, v in d.items() if k != "latency"}


def _combine(producers: list[dict]) -> tuple[dict | None, LatencyRecorder]:
    """The producers' results as one (counts and rates summed) and their merged ack latency."""
    ack = LatencyRecorder()
    for result in producers:
        ack.merge(LatencyRecorder.decode(result["latency"]))
    if len(producers) <= 1:
        return (producers[0] if producers else None), ack
    summed = {k: sum(r[k] for r in producers) for k in ("sent", "acked", "errors", "msgs_per_s")}
    return {**producers[0], **summed, "elapsed_s": max(r["elapsed_s"] for r in producers),
            "processes": len(producers)}, ack


def _record(index: int, group: procs.GroupResult, w: Workload, consumer_only: bool) -> dict:
    cons = group.results.get("consumer")
    prod, ack = _combine([r for name, r in group.results.items() if name.startswith("producer")])
    e2e = LatencyRecorder.decode(cons["latency"]) if cons else LatencyRecorder()
    main = cons if consumer_only else prod
    assert main is not None
    rate = main["msgs_per_s"]
    es, acks = e2e.summary(), ack.summary()
    return {
        "index": index, "started_at": time.time(), "window_s": group.window.duration_s,
        "msgs_per_s": rate, "MiB_per_s": rate * w.size / 2**20,
        "consumer_msgs_per_s": cons["msgs_per_s"] if cons else None,
        "e2e_p50_ms": es["corrected"]["p50_ms"], "e2e_p99_ms": es["corrected"]["p99_ms"],
        "e2e_p999_ms": es["corrected"]["p999_ms"], "e2e_naive_p99_ms": es["naive"]["p99_ms"],
        "ack_p50_ms": acks["corrected"]["p50_ms"], "ack_p99_ms": acks["corrected"]["p99_ms"],
        "e2e": es, "ack": acks, "producer": _strip(prod), "consumer": _strip(cons),
        "cpu": group.cpu.as_dict(), "bound": group.cpu.bound,
        "_hist": {"e2e": e2e, "ack": ack},
    }


def _merge_histograms(config: ConfigResult) -> None:
    merged: dict[str, LatencyRecorder] = {}
    for run in config.runs:
        for kind, rec in run.pop("_hist", {}).items():
            merged.setdefault(kind, LatencyRecorder()).merge(rec)
    config.latency = {k: {"histograms": v.encode(), "summary": v.summary()} for k, v in merged.items()}


def run_python(w: Workload, mode: Mode, ep: Endpoints, *, consumer_only: bool = False,
               runs: int | None = None, duration_s: float | None = None,
               progress: Progress = _noop,
               during: Callable[[procs.Window], None] | None = None,
               prefilled_topic: str | None = None) -> ConfigResult:
    """Measure ``w`` with the Python load generators (one producer and/or one consumer process).

    ``during(window)`` runs in the parent at the start of each measured window (see
    :func:`procs.run_group`). ``prefilled_topic``: for consumer-only Kafka runs, read this
    already filled topic (kept) instead of creating and filling one."""
    w.validate()
    label = w.consumer_label if consumer_only else w.label
    config = ConfigResult(label=label, system=w.system, client="python",
                          workload={**w.as_dict(), "consumer_only": consumer_only})
    duration = duration_s or mode.duration_s
    latency_run = w.rate is not None
    brokers = broker_pids(ep, w.system)
    base = {"workload": w.as_dict(), "latency": not consumer_only, "drain": latency_run}
    name = prefilled_topic or topology.unique_name("cfg")
    try:
        if w.system == "kafka":
            base |= {"client": ep.kafka_config(), "topic": name}
            if not prefilled_topic:
                topology.create_topic(ep, name, topology.topic_config(w))
                if consumer_only:
                    fill_topic(ep, name, w.size, mode.prefill_messages)
        else:
            topology.declare_queue(ep, name, w)
            base |= {"url": ep.rabbitmq_url, "queue": name}
        # Consumer-only RabbitMQ runs refill the queue before each run: enough for the window at
        # 1.5 times the rate the previous run measured (a first guess before that).
        state = {"need": int(10_000 * duration) + w.prefetch}
        for i in range(runs or mode.runs):
            for _attempt in range(3):
                roles = _roles(w, ep, name, base, consumer_only, duration, state["need"])
                group = procs.run_group(roles, mode.warmup_s, duration, mode.drain_s, brokers, during)
                record = _record(i, group, w, consumer_only)
                if not (consumer_only and record["consumer"]["received"] == 0):
                    break
                state["need"] *= 3  # nothing was read (the queue ran dry): refill more, run again
            if consumer_only and w.system == "rabbitmq":
                need = int(record["msgs_per_s"] * duration * 1.5) + w.prefetch + 1000
                state["need"] = min(need, RABBIT_PREFILL_CAP)  # a queue that runs dry ends the run
            config.runs.append(record)
            progress()
    finally:
        if w.system == "kafka" and not prefilled_topic:
            topology.discard_kafka(ep, topics=[name])
        elif w.system == "rabbitmq":
            topology.delete_queues(ep, [name])
    _merge_histograms(config)
    return summarize_runs(config, KEYS)


def _roles(w: Workload, ep: Endpoints, name: str, base: dict, consumer_only: bool,
           duration: float, need: int) -> list[procs.Role]:
    roles: list[procs.Role] = []
    if w.system == "kafka":
        if consumer_only or w.consumer:
            roles.append(procs.Role("consumer", kafka_load.consume,
                                    {**base, "from_end": not consumer_only,
                                     "stop_at_eof": consumer_only}))
        if not consumer_only:
            roles += _producers(w, kafka_load.produce, base)
        return roles
    if consumer_only:
        depth = topology.queue_depth(ep, name)
        if depth < need:
            procs.run_one(rabbit_load.prefill, {**base, "count": need - depth, "expect": need}, 300)
    purge = not consumer_only and w.queue_type != "stream"
    if purge and not w.consumer:
        topology.purge_queue(ep, name)
    if consumer_only or w.consumer:
        roles.append(procs.Role("consumer", rabbit_load.consume,
                                {**base, "stop_when_empty": consumer_only, "purge": purge}))
    if not consumer_only:
        roles += _producers(w, rabbit_load.publish, base)
    return roles


def _producers(w: Workload, fn: Callable[[dict, procs.Sync], dict], base: dict) -> list[procs.Role]:
    """``w.producers`` producer processes: "producer", "producer-2", …"""
    return [procs.Role("producer" if i == 0 else f"producer-{i + 1}", fn, base)
            for i in range(w.producers)]


def run_native(w: Workload, mode: Mode, ep: Endpoints, *, runs: int | None = None,
               progress: Progress = _noop) -> ConfigResult:
    """Measure ``w`` with ProducerPerformance (Kafka) or PerfTest (RabbitMQ), after a warm-up run."""
    w.validate()
    tool = "ProducerPerformance" if w.system == "kafka" else "PerfTest"
    config = ConfigResult(label=f"{w.label} [{tool}]", system=w.system, client=tool,
                          workload=w.as_dict())
    brokers = broker_pids(ep, w.system)
    created: list[str] = []
    try:
        if w.system == "kafka":
            topic = topology.unique_name("native")
            created.append(topic)
            topology.create_topic(ep, topic, topology.topic_config(w))
            props = {"acks": w.acks, "linger.ms": w.linger_ms, "batch.size": w.batch_size}
            rate = w.rate or -1
            native.producer_performance(ep, topic, max(2000, mode.native_records // 4), w.size, props,
                                        brokers, rate)  # warm-up: JIT, connections, page cache
            for i in range(runs or mode.runs):
                out = native.producer_performance(ep, topic, mode.native_records, w.size, props,
                                                  brokers, rate)
                config.runs.append(_native_record(i, out, out["steady_msgs_per_s"], None, w.size))
                progress()
        else:
            for i in range(runs or mode.runs):
                queue = topology.unique_name("perftest")
                created.append(queue)
                out = native.perftest(ep, queue, mode.perftest_seconds, w.as_dict(), brokers)
                lat = out.get("confirm_latency_ms") or out.get("consumer_latency_ms") or {}
                out |= {"p50_ms": lat.get("p50"), "p99_ms": lat.get("p99")}
                config.runs.append(_native_record(i, out, out["steady_msgs_per_s"],
                                                  out.get("steady_received_per_s"), w.size))
                progress()
    finally:
        if w.system == "kafka":
            topology.discard_kafka(ep, topics=created)
        else:
            topology.delete_queues(ep, created)
    return summarize_runs(config, NATIVE_KEYS)


def _native_record(index: int, out: dict, rate: float, consumer_rate: float | None,
                   size: int) -> dict:
    return {"index": index, "started_at": time.time(), "msgs_per_s": rate,
            "MiB_per_s": rate * size / 2**20, "consumer_msgs_per_s": consumer_rate,
            "p50_ms": out.get("p50_ms"), "p99_ms": out.get("p99_ms"),
            "cpu": out["cpu"], "bound": out["cpu"]["bound"],
            "tool": {k: v for k, v in out.items() if k not in ("cpu",)}}


def fill_topic(ep: Endpoints, topic: str, size: int, count: int) -> int:
    """Write ``count`` messages of ``size`` bytes into ``topic`` (setup for consumer-only runs)."""
    w = Workload("kafka", size=size)
    out = procs.run_one(kafka_load.prefill, {"workload": w.as_dict(), "client": ep.kafka_config(),
                                             "topic": topic, "count": count}, 300)
    return out["written"]


def native_consumer(ep: Endpoints, mode: Mode, topic: str, count: int, size: int = 1024,
                    runs: int | None = None, progress: Progress = _noop) -> ConfigResult:
    """Kafka ConsumerPerformance reading ``count`` messages of a filled ``topic`` (not deleted)."""
    w = Workload("kafka", size=size)
    config = ConfigResult(label=f"kafka consumer {size}B [ConsumerPerformance]", system="kafka",
                          client="ConsumerPerformance", workload={**w.as_dict(), "consumer_only": True})
    brokers = broker_pids(ep, "kafka")
    groups = [topology.unique_name("perf-consumer") for _ in range(runs or mode.runs)]
    try:
        for i, group in enumerate(groups):  # a new group each run: each reads from the start
            out = native.consumer_performance(ep, topic, count, group, brokers)
            config.runs.append(_native_record(i, out, out["msgs_per_s"], out["msgs_per_s"], size))
            progress()
    finally:
        topology.discard_kafka(ep, groups=groups)
    return summarize_runs(config, NATIVE_KEYS)

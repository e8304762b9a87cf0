"""Scaling curves: publish throughput against partitions / queues × producer processes.

One *point* is one family (Kafka, or a RabbitMQ classic queue, quorum queue, stream over AMQP,
stream over the stream protocol), a width (partitions of one topic, or that many queues or
streams) and a number of producer processes, each its own OS process publishing as fast as its
window allows: Kafka spreads records over the partitions (librdkafka's sticky partitioner),
RabbitMQ producers publish round-robin over the queues. No consumer runs (as Kafka's
``ProducerPerformance``): the curve is what the broker accepts and acknowledges. Every point is
measured once, after a warm-up, with the CPU of every producer and of the broker over the window.

:func:`grid` and :func:`durability_grid` pick the points of a mode; :func:`estimate_s` says how
long they take; :func:`measure` runs one point; :func:`run` runs a list into a JSON-ready record.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from brokerlab.bench import kafka_load, procs, rabbit_load, stream_load, topology
from brokerlab.bench.cpu import CpuReport
from brokerlab.bench.mode import Mode
from brokerlab.bench.runner import broker_pids
from brokerlab.bench.workload import Workload, ladder
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints

SCHEMA = "brokerlab.bench.scale/1"
RABBIT_FAMILIES = ("classic", "quorum", "stream-amqp", "stream-protocol")
FAMILIES = ("kafka", *RABBIT_FAMILIES)
CONFIRM_WINDOW = 500  # messages awaiting their confirm, per RabbitMQ producer
STREAM_WINDOW = 2000  # the same over the stream protocol, whose frames carry 100 messages each
# Seconds a point costs beyond its warm-up and window (processes, connections, topology),
# measured on the course's 2-core machine: a fixed part plus a part per producer process.
SETUP_S = {"kafka": 0.9, "classic": 0.5, "quorum": 0.8, "stream-amqp": 0.8, "stream-protocol": 1.0}
PER_PRODUCER_S = 0.25
Progress = Callable[[], None]


@dataclass(frozen=True)
class Point:
    """One point of a scaling curve."""

    family: str  # one of FAMILIES
    width: int  # partitions (Kafka) or queues / streams (RabbitMQ)
    producers: int  # producer processes
    acks: str = "all"  # Kafka only
    persistent: bool = True  # RabbitMQ classic only: False = transient queue and messages
    replication: int = 1  # Kafka only: 3 on the course's 3-node cluster

    @property
    def system(self) -> str:
        return "kafka" if self.family == "kafka" else "rabbitmq"

    @property
    def setting(self) -> str:
        """The durability setting, as the curves' legends show it."""
        if self.family == "kafka":
            return f"acks={self.acks} RF {self.replication}"
        if self.family == "classic":
            return "persistent, confirms" if self.persistent else "transient, confirms"
        return "confirms"

    @property
    def curve(self) -> str:
        """The curve this point belongs to: family, setting and producer count."""
        return f"{self.family} {self.setting}, {self.producers} producer(s)"

    def workload(self, size: int = 1024) -> Workload:
        """What each producer process does."""
        if self.family == "kafka":
            return ladder("kafka", "D1", size=size, consumer=False, acks=self.acks)
        queue_type = self.family.split("-")[0]
        window = STREAM_WINDOW if self.family == "stream-protocol" else CONFIRM_WINDOW
        durable = {} if self.persistent else {"durable": False, "persistent": False}
        return ladder("rabbitmq", "D1", size=size, consumer=False, queue_type=queue_type,
                      confirm_window=window, **durable)  # type: ignore[arg-type]


def grid(mode: Mode, families: Sequence[str] = FAMILIES) -> list[Point]:
    """The mode's points: every width × producer count, for each family."""
    points = []
    for family in families:
        widths = mode.scale_partitions if family == "kafka" else mode.scale_queues
        points += [Point(family, width, n) for width in widths for n in mode.scale_producers]
    return points


def durability_grid(mode: Mode, cluster: bool = False) -> list[Point]:
    """The second durability setting, at the most producers: Kafka ``acks=1`` (the grid has
    ``acks=all``), RabbitMQ transient classic queues (the grid has persistent ones); with the
    3-node cluster, Kafka RF 3 at ``acks=1`` and ``acks=all``."""
    top = max(mode.scale_producers)
    points = [Point("kafka", p, top, acks="1") for p in mode.scale_partitions]
    points += [Point("classic", q, top, persistent=False) for q in mode.scale_queues]
    if cluster:
        points += [Point("kafka", p, top, acks=acks, replication=3)
                   for acks in ("1", "all") for p in mode.scale_partitions]
    return points


def estimate_s(points: Sequence[Point], mode: Mode) -> float:
    """How long measuring ``points`` takes, in seconds (see :data:`SETUP_S`)."""
    return sum(mode.scale_warmup_s + mode.scale_duration_s + SETUP_S[p.family]
               + PER_PRODUCER_S * p.producers for p in points)


def cluster_kafka(ep: Endpoints) -> tuple[Endpoints, dict[str, list[int]]] | None:
    """The 3-node cluster's Kafka (endpoints, broker PIDs) when ``brokerlab cluster up`` runs it
    beside the course's own brokers; else None."""
    if ep.source != "native":
        return None
    from brokerlab.brokers import native

    deployment = native.cluster()
    if not deployment.kafka or not all(node.is_alive() for node in deployment.kafka):
        return None
    pids = [pid for node in deployment.kafka for pid in node.pids()]
    return dataclasses.replace(ep, kafka_bootstrap_servers=deployment.bootstrap_servers), \
        {"kafka cluster": pids}


def _cpu_summary(report: CpuReport) -> dict:
    """Cores used by the broker and by the clients (1.0 = one full core), and the verdict."""
    broker = sum(p.cores for p in report.processes if p.role == "broker")
    clients = sum(p.cores for p in report.processes if p.role == "client")
    return {"broker_cores": round(broker, 2), "client_cores": round(clients, 2),
            "machine_busy": round(report.machine_busy, 3), "cpu_count": report.cpu_count,
            "bound": report.bound, "reason": report.reason,
            "processes": [dataclasses.asdict(p) for p in report.processes]}


def _producer(point: Point, ep: Endpoints, names: list[str], w: Workload) -> tuple[Callable, dict]:
    base: dict = {"workload": w.as_dict()}
    if point.family == "kafka":
        return kafka_load.produce, {**base, "client": ep.kafka_config(), "topic": names[0]}
    if point.family == "stream-protocol":
        return stream_load.publish, {**base, "streams": names, "address": ep.stream_address,
                                     "auth": ep.management_auth}
    return rabbit_load.publish, {**base, "url": ep.rabbitmq_url, "queues": names}


def measure(point: Point, mode: Mode, ep: Endpoints, size: int = 1024,
            brokers: dict[str, list[int]] | None = None) -> dict:
    """Measure one point: create its topic or queues, run its producers, delete what it made."""
    w = point.workload(size)
    if point.family == "kafka":
        names = [topology.unique_name(f"scale-p{point.width}")]
        topology.create_topic(ep, names[0], partitions=point.width, replication=point.replication)
    else:
        topology.wait_until_publishers_unblocked(ep)
        names = [topology.unique_name(f"scale-{point.family}") for _ in range(point.width)]
        topology.declare_queues(ep, names, w, ready_check=True)
    fn, params = _producer(point, ep, names, w)
    roles = [procs.Role(f"producer-{i + 1}", fn, params) for i in range(point.producers)]
    load = os.getloadavg()[0]
    try:
        group = procs.run_group(roles, mode.scale_warmup_s, mode.scale_duration_s, 0.0,
                                broker_pids(ep, point.system) if brokers is None else brokers)
    finally:
        if point.family == "kafka":
            topology.discard_kafka(ep, topics=names)
        else:
            topology.delete_queues(ep, names)
    results = list(group.results.values())
    rate = sum(r["msgs_per_s"] for r in results)
    return {**dataclasses.asdict(point), "system": point.system, "setting": point.setting,
            "curve": point.curve, "message_bytes": size, "window_s": group.window.duration_s,
            "msgs_per_s": round(rate), "MiB_per_s": round(rate * size / 2**20, 2),
            "sent": sum(r["sent"] for r in results), "acked": sum(r["acked"] for r in results),
            "errors": sum(r["errors"] for r in results), "cpu": _cpu_summary(group.cpu),
            "bound": group.cpu.bound, "load_average_1m": round(load, 2), "started_at": time.time()}


def peaks(points: Sequence[dict]) -> dict:
    """Per family and setting, the point with the highest msg/s."""
    best: dict[str, dict] = {}
    for p in points:
        key = f"{p['family']} {p['setting']}"
        if key not in best or p["msgs_per_s"] > best[key]["msgs_per_s"]:
            best[key] = p
    return {k: {"msgs_per_s": p["msgs_per_s"], "MiB_per_s": p["MiB_per_s"], "width": p["width"],
                "producers": p["producers"], "bound": p["bound"],
                "broker_cores": p["cpu"]["broker_cores"], "client_cores": p["cpu"]["client_cores"],
                "load_average_1m": p["load_average_1m"]} for k, p in best.items()}


def run(points: Sequence[Point], mode: Mode, ep: Endpoints, size: int = 1024,
        progress: Progress = lambda: None) -> dict:
    """Measure every point in order (RF 3 points on the 3-node cluster, which must be up); the
    record ``bench scale --json`` prints."""
    started, load = time.time(), os.getloadavg()[0]
    cluster = cluster_kafka(ep) if any(p.replication > 1 for p in points) else None
    measured = []
    for point in points:
        if point.replication > 1:
            if cluster is None:
                raise BrokerlabError(f"{point.curve} needs the 3-node cluster.",
                                     "Start it with `brokerlab cluster up`, or leave RF 3 out.")
            measured.append(measure(point, mode, cluster[0], size, cluster[1]))
        else:
            measured.append(measure(point, mode, ep, size))
        progress()
    return {"schema": SCHEMA, "mode": mode.name, "message_bytes": size,
            "warmup_s": mode.scale_warmup_s, "window_s": mode.scale_duration_s,
            "runs_per_point": 1, "cpu_count": os.cpu_count(),
            "load_average_1m_at_start": round(load, 2),
            "estimate_s": round(estimate_s(points, mode)), "elapsed_s": round(time.time() - started),
            "points": measured, "peaks": peaks(measured)}


POINT_KEYS = ("family", "system", "width", "producers", "setting", "curve", "msgs_per_s",
              "MiB_per_s", "window_s", "cpu", "bound", "load_average_1m")
RECORD_KEYS = ("schema", "mode", "message_bytes", "window_s", "cpu_count",
               "load_average_1m_at_start", "estimate_s", "elapsed_s", "points", "peaks")


def validate(record: dict) -> list[str]:
    """Problems with a scaling record (an empty list means it has the documented shape)."""
    problems = [f"missing key {k!r}" for k in RECORD_KEYS if k not in record]
    if record.get("schema") != SCHEMA:
        problems.append(f"schema is {record.get('schema')!r}, expected {SCHEMA!r}")
    for i, p in enumerate(record.get("points", [])):
        problems += [f"points[{i}] missing {k!r}" for k in POINT_KEYS if k not in p]
        if p.get("family") not in FAMILIES:
            problems.append(f"points[{i}] has unknown family {p.get('family')!r}")
        if not p.get("msgs_per_s", 0) >= 0:
            problems.append(f"points[{i}] has a negative rate")
    return problems


def table(points: Sequence[dict]) -> str:
    """One line per point: curve, width, msg/s, MiB/s, broker and client cores, verdict, load."""
    lines = [f"{'curve':52s} {'width':>5s} {'msg/s':>9s} {'MiB/s':>7s} {'broker':>7s} "
             f"{'clients':>7s}  {'bound':17s} load"]
    for p in points:
        lines.append(f"{p['curve'][:52]:52s} {p['width']:>5d} {p['msgs_per_s']:>9,} "
                     f"{p['MiB_per_s']:>7.1f} {p['cpu']['broker_cores']:>7.2f} "
                     f"{p['cpu']['client_cores']:>7.2f}  {p['bound']:17s} {p['load_average_1m']}")
    return "\n".join(lines)

"""The native backend: Kafka (KRaft, Maven jars) and RabbitMQ (OS package) as user processes.

Two deployments live side by side under ``<data dir>/run``: ``single`` (one Kafka, one RabbitMQ,
the lessons) and ``cluster`` (three of each on other ports, the failure labs).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
from confluent_kafka.admin import AdminClient

from brokerlab import maven, processes, settings
from brokerlab.brokers import kafka_native, rabbitmq_native
from brokerlab.brokers.kafka_native import KafkaNode, KafkaSettings
from brokerlab.brokers.node import BrokerNode
from brokerlab.brokers.rabbitmq_native import RabbitNode, RabbitPorts
from brokerlab.errors import BrokerlabError
from brokerlab.ports import require_free
from brokerlab.roundtrip import kafka_roundtrip, rabbitmq_roundtrip

MAX_PORT_OFFSET = 3900  # keeps the highest port (STOMP, 61613) under 65536
START_TIMEOUT = 90.0  # seconds a node may take to open its port on a slow machine
OFFSET_FILE = "port_offset"  # the offset a deployment was started with
Progress = Callable[[str], None]


@dataclass
class UpReport:
    """What ``up`` did: whether it started anything, and seconds until each round trip passed."""

    already_up: bool
    seconds: dict[str, float] = field(default_factory=dict)


class NativeDeployment:
    """A set of Kafka and RabbitMQ nodes started, checked and stopped together."""

    def __init__(self, name: str, home: Path, kafka: list[KafkaNode], rabbit: list[RabbitNode],
                 port_offset: int) -> None:
        self.name = name
        self.home = home
        self.kafka = kafka
        self.rabbit = rabbit
        self.port_offset = port_offset

    @property
    def nodes(self) -> list[BrokerNode]:
        return [*self.kafka, *self.rabbit]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(n.bootstrap for n in self.kafka)

    @property
    def amqp_url(self) -> str:
        return settings.amqp_url("127.0.0.1", self.rabbit[0].port)

    @property
    def management_url(self) -> str:
        return self.rabbit[0].management_url

    def is_up(self) -> bool:
        """Every node's process runs and its client port accepts connections."""
        return all(n.is_alive() and n.is_listening() for n in self.nodes)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BrokerlabError(
                    f"Another brokerlab command is starting or stopping '{self.name}' right now.",
                    "Wait for it to finish, then run `brokerlab status`.",
                ) from None
            yield

    def up(self, progress: Progress = print) -> UpReport:
        """Start whatever is not running, wait for real round trips; idempotent."""
        with self._locked():
            (self.home / OFFSET_FILE).write_text(str(self.port_offset))
            if self.is_up():
                self._write_endpoints()
                return UpReport(already_up=True)
            return self._start(progress)

    def _start(self, progress: Progress) -> UpReport:
        kafka_native.java_executable()
        rabbitmq_native.server_script()
        maven.KAFKA.ensure(self.kafka[0].jars.parent)
        to_start = [n for n in self.nodes if n.process() is None]
        for node in self.nodes:
            if node not in to_start and not node.is_alive():
                node.resume()  # a node left paused by a lab
        require_free(
            [p for n in to_start for p in n.ports()],
            f"`brokerlab {'cluster ' if self.name == 'cluster' else ''}up --port-offset 100` "
            "(every port +100; clients find them through `brokerlab status`).",
        )
        started: dict[BrokerNode, psutil.Process] = {}
        try:
            t0 = time.monotonic()
            # RabbitMQ boots slowest: start it first so both come up in parallel.
            for node in sorted(to_start, key=lambda n: n.kind != "rabbitmq"):
                progress(f"starting {node.name} (log: {node.log})")
                started[node] = node.spawn()
            report = UpReport(already_up=False)
            self._wait_listening(self.kafka, started, t0)
            report.seconds["kafka"] = self._kafka_ready(t0)
            progress(f"Kafka ready: produce/consume round trip passed {report.seconds['kafka']:.1f} s "
                     "after start")
            self._wait_listening(self.rabbit, started, t0)
            report.seconds["rabbitmq"] = self._rabbit_ready(t0)
            progress(f"RabbitMQ ready: publish/get round trip passed {report.seconds['rabbitmq']:.1f} s "
                     "after start")
        except BaseException:
            for node in started:
                node.kill()
            rabbitmq_native.stop_epmd_if_idle()
            raise
        self._write_endpoints()
        return report

    def _wait_listening(self, nodes: list[KafkaNode] | list[RabbitNode],
                        started: dict[BrokerNode, psutil.Process], t0: float) -> None:
        pending: list[BrokerNode] = list(nodes)
        while pending:
            for node in list(pending):
                if node.process() is None:
                    raise processes.died_while_starting(node.name, started.get(node), node.log)
                if node.is_listening():
                    pending.remove(node)
            if pending and time.monotonic() - t0 > START_TIMEOUT:
                names = ", ".join(n.name for n in pending)
                raise BrokerlabError(
                    f"{names} did not open a port within {START_TIMEOUT:.0f} s. Last log lines:\n"
                    + processes.tail(pending[0].log),
                    f"Read {pending[0].log}; run `brokerlab doctor`; stop with `brokerlab down`.",
                )
            time.sleep(0.1)

    def _kafka_ready(self, t0: float) -> float:
        if len(self.kafka) > 1:
            admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 0})
            ok = processes.wait_until(
                lambda: len(admin.list_topics(timeout=2).brokers) == len(self.kafka), 60)
            if not ok:
                raise BrokerlabError("The Kafka brokers did not all register with the controller "
                                     "within 60 s.", f"Read the logs under {self.home}.")
        kafka_roundtrip(self.bootstrap_servers, timeout=60)
        return time.monotonic() - t0

    def _rabbit_ready(self, t0: float) -> float:
        if len(self.rabbit) > 1:
            def formed() -> bool:
                try:
                    nodes = requests.get(f"{self.management_url}/api/nodes", auth=("guest", "guest"),
                                         timeout=2).json()
                    return sum(1 for n in nodes if n.get("running")) == len(self.rabbit)
                except (requests.RequestException, ValueError):
                    return False
            if not processes.wait_until(formed, 90, 0.5):
                raise BrokerlabError(
                    "The RabbitMQ nodes did not form a cluster within 90 s.",
                    f"Read the logs under {self.home}; then `brokerlab cluster down --purge`.",
                )
        rabbitmq_roundtrip(self.amqp_url, timeout=60)
        return time.monotonic() - t0

    def _write_endpoints(self) -> None:
        first = self.rabbit[0].rabbit_ports
        data = {"kafka": self.bootstrap_servers, "amqp": self.amqp_url,
                "management": self.management_url, "port_offset": self.port_offset,
                "mqtt": f"mqtt://127.0.0.1:{first.mqtt}" if first.mqtt else None,
                "stomp": f"stomp://127.0.0.1:{first.stomp}" if first.stomp else None}
        (self.home / "endpoints.json").write_text(json.dumps(data, indent=2))

    def down(self, purge: bool = False) -> list[str]:
        """Stop every node cleanly (in parallel); ``purge`` also deletes their data."""
        with self._locked():
            running = [n for n in self.nodes if n.process() is not None]
            with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
                list(pool.map(lambda n: n.stop(), running))
            rabbitmq_native.stop_epmd_if_idle()
            (self.home / "endpoints.json").unlink(missing_ok=True)
            if purge:
                for entry in self.home.iterdir():
                    if entry.name != ".lock":
                        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            return [n.name for n in running]

    def status(self) -> dict:
        """Per broker: up, version, endpoints, PIDs, data dir, RSS (the ``status --json`` shape)."""
        kafka_up = all(n.is_alive() and n.is_listening() for n in self.kafka)
        rabbit_up = all(n.is_alive() and n.is_listening() for n in self.rabbit)
        return {
            "backend": "native",
            "deployment": self.name,
            "data_dir": str(self.home),
            "kafka": {
                "up": kafka_up,
                "version": maven.KAFKA.version(),
                "bootstrap_servers": self.bootstrap_servers,
                "pids": [pid for n in self.kafka for pid in n.pids()],
                "rss_bytes": sum(n.rss() for n in self.kafka),
                "nodes": [_node_status(n) for n in self.kafka],
            },
            "rabbitmq": {
                "up": rabbit_up,
                "version": rabbit_version(self.management_url) if rabbit_up else None,
                "amqp_url": self.amqp_url,
                "management_url": self.management_url,
                "pids": [pid for n in self.rabbit for pid in n.pids()],
                "rss_bytes": sum(n.rss() for n in self.rabbit),
                "nodes": [_node_status(n) for n in self.rabbit],
            },
        }


def _node_status(node: BrokerNode) -> dict:
    return {"name": node.name, "port": node.port, "alive": node.is_alive(),
            "listening": node.is_listening(), "pids": node.pids(), "rss_bytes": node.rss(),
            "log": str(node.log), "dir": str(node.home)}


def rabbit_version(management_url: str) -> str | None:
    """The version the management API reports (None when it does not answer)."""
    try:
        reply = requests.get(f"{management_url}/api/overview", auth=("guest", "guest"), timeout=3)
        return reply.json().get("rabbitmq_version")
    except (requests.RequestException, ValueError):
        return None


def _identity(home: Path) -> dict[str, str]:
    """The deployment's KRaft cluster id and Erlang cookie, made once and kept with its data."""
    path = home / "identity.json"
    if path.is_file():
        return json.loads(path.read_text())
    home.mkdir(parents=True, exist_ok=True)
    identity = {"kafka_cluster_id": kafka_native.new_cluster_id(),
                "erlang_cookie": secrets.token_hex(16).upper()}
    path.write_text(json.dumps(identity))
    path.chmod(0o600)
    return identity


def port_offset(value: int | None = None, home: Path | None = None) -> int:
    """The port shift: ``--port-offset``, else ``$BROKERLAB_PORT_OFFSET``, else the one the
    deployment in ``home`` (or, for a new cluster, the single deployment beside it) was last
    started with — kept across ``down``, forgotten by ``--purge`` — else 0."""
    raw: object = value if value is not None else os.environ.get("BROKERLAB_PORT_OFFSET")
    if raw is None and home is not None:
        remembered = [h / OFFSET_FILE for h in (home, home.parent / "single") if (h / OFFSET_FILE).is_file()]
        raw = remembered[0].read_text().strip() if remembered else 0
    try:
        offset = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        offset = -1
    if not 0 <= offset <= MAX_PORT_OFFSET:
        raise BrokerlabError(f"Port offset {raw!r} is not a whole number from 0 to {MAX_PORT_OFFSET}.",
                             "Example: brokerlab up --port-offset 100")
    return offset


def single(offset: int | None = None, data: Path | None = None) -> NativeDeployment:
    """One Kafka on 127.0.0.1:9092 and one RabbitMQ on 5672/15672 (+ offset)."""
    root = data or settings.data_dir()
    home = root / "run" / "single"
    o = port_offset(offset, home)
    ident = _identity(home)
    jars = maven.KAFKA.jar_dir(root / "cache")
    kafka = KafkaNode(home / "kafka", 1, 9092 + o, 9093 + o, KafkaSettings(voters=((1, 9093 + o),)),
                      ident["kafka_cluster_id"], jars)
    ports = RabbitPorts(amqp=5672 + o, management=15672 + o, dist=25672 + o, mqtt=1883 + o,
                        stomp=61613 + o)
    rabbit = RabbitNode(home / "rabbitmq", f"brokerlab{5672 + o}@localhost", ports,
                        ident["erlang_cookie"], memory_limit_mib=384)
    return NativeDeployment("single", home, [kafka], [rabbit], o)


def cluster(offset: int | None = None, data: Path | None = None) -> NativeDeployment:
    """Three Kafka nodes (RF 3, min ISR 2) on 19092/19102/19112 and three RabbitMQ nodes on
    5673–5675 (management 15673–15675), for the failure labs. Every port stays below Linux's
    ephemeral range (32768+), where an outgoing connection could be holding it."""
    root = data or settings.data_dir()
    home = root / "run" / "cluster"
    o = port_offset(offset, home)
    ident = _identity(home)
    jars = maven.KAFKA.jar_dir(root / "cache")
    client, controller = (lambda i: 19092 + 10 * (i - 1) + o), (lambda i: 19093 + 10 * (i - 1) + o)
    voters = tuple((i, controller(i)) for i in (1, 2, 3))
    ksettings = KafkaSettings(voters=voters, replication_factor=3, min_insync_replicas=2)
    kafka = [KafkaNode(home / f"kafka-{i}", i, client(i), controller(i), ksettings, ident["kafka_cluster_id"],
                       jars) for i in (1, 2, 3)]
    names = tuple(f"brokerlab{5672 + i + o}@localhost" for i in (1, 2, 3))
    rabbit = [
        RabbitNode(home / f"rabbitmq-{i}", names[i - 1],
                   RabbitPorts(amqp=5672 + i + o, management=15672 + i + o, dist=25672 + i + o),
                   ident["erlang_cookie"], memory_limit_mib=256, peers=names,
                   plugins=("rabbitmq_management",))
        for i in (1, 2, 3)
    ]
    return NativeDeployment("cluster", home, kafka, rabbit, o)

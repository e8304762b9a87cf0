"""The native backend: Kafka (KRaft, Maven jars) and RabbitMQ (OS package) as user processes.

Two deployments live side by side under ``<data dir>/run``: ``single`` (one Kafka, one RabbitMQ,
the lessons) and ``cluster`` (three of each on other ports, the failure labs).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shlex
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psutil
from confluent_kafka.admin import AdminClient

from brokerlab import settings
from brokerlab.brokers import files, kafka_native, maven, processes, rabbitmq_native
from brokerlab.brokers.backend import BrokerStatus, NodeStatus, Progress, Status, UpReport
from brokerlab.brokers.kafka_native import KafkaNode, KafkaSettings
from brokerlab.brokers.management import Management
from brokerlab.brokers.node import BrokerNode, running
from brokerlab.brokers.ports import require_free
from brokerlab.brokers.rabbitmq_native import RabbitNode, RabbitPorts
from brokerlab.brokers.roundtrip import kafka_roundtrip, rabbitmq_roundtrip
from brokerlab.errors import BrokerlabError
from brokerlab.waiting import wait_for

MAX_PORT_OFFSET = 3900  # keeps the highest port (STOMP, 61613) under 65536
START_TIMEOUT = 90.0  # seconds a node may take to open its port on a slow machine
OFFSET_FILE = "port_offset"  # the offset a deployment was started with
RABBITMQ4_PORT_SHIFT = -50  # the rabbitmq4 deployment: the single one's ports + offset - 50 (all in range)
LOCK_TIMEOUT = 300.0  # seconds a command waits for another one starting or stopping the deployment
CLUSTER_NODES = (1, 2, 3)  # the cluster's own nodes of each kind; a lab may add more (extra_nodes)
EXTRA_NODES_FILE = "extra_nodes.json"  # the cluster's record of the nodes a lab added


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

    def command(self, verb: str) -> str:
        """The CLI command doing ``verb`` (up, down, status) to this deployment."""
        return f"brokerlab {verb}" if self.name == "single" else f"brokerlab {self.name} {verb}"

    def is_up(self) -> bool:
        """Every node's process runs and its client port accepts connections."""
        return all(n.is_alive() and n.is_listening() for n in self.nodes)

    @contextmanager
    def _locked(self, progress: Progress, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Hold the deployment's lock: a second command waits (up to ``timeout``) for the first."""
        files.private_dir(self.home)
        fd = os.open(self.home / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another command"
                    if time.monotonic() > deadline:
                        raise BrokerlabError(
                            f"'{self.name}' is still busy after {timeout:.0f} s: {holder}.",
                            "Wait for it, or stop that process; then run `brokerlab status`.",
                        ) from None
                    if not told:
                        progress(f"waiting for {holder} to finish with '{self.name}'…")
                        told = True
                    time.sleep(0.2)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} ({' '.join(psutil.Process().cmdline()[-3:])})".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def up(self, progress: Progress = print) -> UpReport:
        """Start whatever is not running, wait for real round trips; idempotent."""
        with self._locked(progress):
            self._refuse_offset_change()
            (self.home / OFFSET_FILE).write_text(str(self.port_offset))
            if self.is_up() and not self.orphans():
                self._write_endpoints()
                return UpReport(already_up=True)
            return self._start(progress)

    def _refuse_offset_change(self) -> None:
        path = self.home / OFFSET_FILE
        remembered = path.read_text().strip() if path.is_file() else str(self.port_offset)
        if remembered != str(self.port_offset) and processes.owned(self.home):
            raise BrokerlabError(
                f"'{self.name}' runs with port offset {remembered}; it cannot move "
                f"to {self.port_offset} while its brokers are up.",
                f"Stop it first: `{self.command('down')}`, "
                "then start it with the new offset.",
            )

    def orphans(self) -> list[psutil.Process]:
        """Processes of this deployment that no node's PID file accounts for, including an epmd
        left without any RabbitMQ node."""
        roots = {n: n.process() for n in self.nodes}
        accounted = {p.pid for root in roots.values() if root for p in processes.tree(root)}
        epmd_in_use = any(roots[n] for n in self.rabbit)
        return [p for p in processes.owned(self.home)
                if p.pid not in accounted and not (epmd_in_use and processes.name(p) == "epmd")]

    def _start(self, progress: Progress) -> UpReport:
        kafka_native.java_executable()
        rabbitmq_native.server_script()
        to_start = [n for n in self.nodes if n.process() is None]
        for node in self.nodes:  # what runs without a record is replaced, so it frees its ports
            node.stop_orphans()
        for node in self.nodes:
            if node not in to_start and not node.is_alive():
                node.resume()  # a node left paused by a lab
        require_free(
            [p for n in to_start for p in n.ports()],
            f"`{self.command('up')} --port-offset 100` "
            "(every port +100; clients find them through `brokerlab status`).",
        )
        maven.KAFKA.ensure(self.kafka[0].jars.parent)  # after the cheap checks: it may run Maven
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
            if not any(n.process() for n in self.nodes):
                self._stop_leftovers()
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
            ok = wait_for(
                lambda: len(admin.list_topics(timeout=2).brokers) == len(self.kafka), 60)
            if not ok:
                raise BrokerlabError("The Kafka brokers did not all register with the controller "
                                     "within 60 s.", f"Read the logs under {self.home}.")
        kafka_roundtrip(self.bootstrap_servers, timeout=60)
        older = [node for node in self.kafka if node.older_data()]
        if older:  # data of an earlier course version: finalize the pinned release's features
            older[0].upgrade_features()
            for node in older[1:]:
                node.formatted_by.write_text(older[0].formatted_by.read_text())
        return time.monotonic() - t0

    def _rabbit_ready(self, t0: float) -> float:
        if len(self.rabbit) > 1:
            def formed() -> bool:
                return Management(self.management_url, timeout=2).running_nodes() == len(self.rabbit)
            if not wait_for(formed, 90, 0.5):
                raise BrokerlabError(
                    "The RabbitMQ nodes did not form a cluster within 90 s.",
                    f"Read the logs under {self.home}; then `brokerlab cluster down --purge`.",
                )
        rabbitmq_roundtrip(self.amqp_url, timeout=60)
        return time.monotonic() - t0

    def _urls(self) -> dict[str, str | None]:
        first = self.rabbit[0].rabbit_ports
        return {"kafka": self.bootstrap_servers, "amqp": self.amqp_url,
                "management": self.management_url,
                "mqtt": f"mqtt://127.0.0.1:{first.mqtt}" if first.mqtt else None,
                "stomp": f"stomp://127.0.0.1:{first.stomp}" if first.stomp else None,
                "stream": f"rabbitmq-stream://127.0.0.1:{first.stream}" if first.stream else None}

    def _write_endpoints(self) -> None:
        data = {**self._urls(), "port_offset": self.port_offset}
        files.write_private(self.home / "endpoints.json", json.dumps(data, indent=2))  # has the AMQP password

    def exports(self) -> str:
        """Shell ``export`` lines naming this deployment's brokers in the environment contract
        (:mod:`brokerlab.settings`), so clients and notebooks use it instead of the defaults."""
        names = {"kafka": "KAFKA_BOOTSTRAP_SERVERS", "amqp": "RABBITMQ_URL",
                 "management": "RABBITMQ_MANAGEMENT_URL", "mqtt": "RABBITMQ_MQTT_URL",
                 "stomp": "RABBITMQ_STOMP_URL", "stream": "RABBITMQ_STREAM_URL"}
        return "\n".join(f"export {names[key]}={shlex.quote(url)}"
                         for key, url in self._urls().items() if url)

    def down(self, purge: bool = False) -> list[str]:
        """Stop every node cleanly (in parallel), and whatever else of the deployment runs (its
        epmd, orphans); ``purge`` also deletes their data. Returns the names of what was stopped."""
        with self._locked(print):
            running = [n for n in self.nodes if n.members()]
            with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
                list(pool.map(lambda n: n.stop(), running))
            leftovers = self._stop_leftovers()
            (self.home / "endpoints.json").unlink(missing_ok=True)
            if purge:
                for entry in self.home.iterdir():
                    if entry.name != ".lock":
                        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            return [n.name for n in running] + leftovers

    def _stop_leftovers(self) -> list[str]:
        """Stop every process still tagged with this deployment (its epmd, anything orphaned);
        raises if one survives. Returns what it stopped, as "name pid"."""
        leftovers = processes.owned(self.home)
        labels = [f"{processes.name(p) or 'process'} {p.pid}" for p in leftovers]
        survivors = processes.stop_all(leftovers, leftovers, timeout=5.0)
        if survivors:
            raise BrokerlabError(
                f"Process(es) of '{self.name}' survived SIGKILL: {[p.pid for p in survivors]}.",
                "Check them with `ps -fp <pid>`.")
        return labels

    def status(self) -> Status:
        """Per broker: up, version, endpoints, PIDs, data dir, RSS, and orphans."""
        kafka = [_node_status(n) for n in self.kafka]
        rabbit = [_node_status(n) for n in self.rabbit]
        rabbit_up = _all_up(rabbit)
        rabbit_version = Management(self.management_url, timeout=3).version() if rabbit_up else None
        return Status(
            backend="native", deployment=self.name, data_dir=str(self.home),
            orphans=[_process_status(p) for p in self.orphans()],
            kafka=BrokerStatus(up=_all_up(kafka), version=maven.KAFKA.version(), nodes=kafka,
                               endpoints={"bootstrap_servers": self.bootstrap_servers}),
            rabbitmq=BrokerStatus(up=rabbit_up,
                                  version=rabbit_version,
                                  nodes=rabbit, endpoints={"amqp_url": self.amqp_url,
                                                           "management_url": self.management_url}),
        )


def _all_up(nodes: list[NodeStatus]) -> bool:
    return all(n.alive and n.listening for n in nodes)


def _node_status(node: BrokerNode) -> NodeStatus:
    try:
        node.record()
        record = "ok"
    except processes.UnreadablePidfile as exc:
        record = exc.problem
    recorded, orphans = node.census()
    return NodeStatus(name=node.name, port=node.port, alive=running(recorded, orphans),
                      listening=node.is_listening(), pids=[p.pid for p in recorded + orphans],
                      rss_bytes=processes.total_rss(recorded + orphans),
                      orphans=[p.pid for p in orphans], record=record, log=str(node.log),
                      dir=str(node.home))


def _process_status(proc: psutil.Process) -> dict:
    try:
        return {"pid": proc.pid, "name": proc.name(), "cmdline": " ".join(proc.cmdline())[:200]}
    except psutil.Error:
        return {"pid": proc.pid, "name": "?", "cmdline": ""}




def _identity(home: Path) -> dict[str, str]:
    """The deployment's KRaft cluster id and Erlang cookie, made once and kept with its data."""
    return json.loads(files.kept_secret(home / "identity.json", lambda: json.dumps({
        "kafka_cluster_id": kafka_native.new_cluster_id(),
        "erlang_cookie": secrets.token_hex(16).upper()})))


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
    return _one_of_each("single", offset, data)


def rabbitmq4(offset: int | None = None, data: Path | None = None) -> NativeDeployment:
    """The single deployment's twin for ``make test-rabbitmq4``: the course's Kafka and a RabbitMQ 4
    node from the Debian 13 root in ``<data dir>/tools/rabbitmq4-root`` (run under chroot), every
    port RABBITMQ4_PORT_SHIFT from the single deployment's, so both run side by side."""
    root = data or settings.data_dir()
    return _one_of_each("rabbitmq4", offset, data, RABBITMQ4_PORT_SHIFT, rabbitmq4_root(root))


def rabbitmq4_root(data: Path) -> Path:
    """Where the Debian 13 root with RabbitMQ 4 is built (scripts/rabbitmq4-root.sh)."""
    return data / "tools" / "rabbitmq4-root"


def _one_of_each(name: str, offset: int | None, data: Path | None, shift: int = 0,
                 chroot: Path | None = None) -> NativeDeployment:
    """One Kafka and one RabbitMQ (native, or run under ``chroot`` from that root)."""
    root = data or settings.data_dir()
    home = root / "run" / name
    offset = port_offset(offset, home)
    o = offset + shift
    ident = _identity(home)
    jars = maven.KAFKA.jar_dir(root / "cache")
    kafka = KafkaNode(home / "kafka", 1, 9092 + o, 9093 + o, KafkaSettings(voters=((1, 9093 + o),)),
                      ident["kafka_cluster_id"], jars)
    ports = RabbitPorts(amqp=5672 + o, management=15672 + o, dist=25672 + o, mqtt=1883 + o,
                        stomp=61613 + o, stream=5552 + o)
    args = (home / "rabbitmq", f"brokerlab{5672 + o}@localhost", ports, ident["erlang_cookie"])
    epmd = rabbitmq_native.EPMD_PORT + o
    rabbit = (rabbitmq_native.ChrootRabbitNode(chroot, *args, epmd_port=epmd) if chroot
              else RabbitNode(*args, epmd_port=epmd))
    return NativeDeployment(name, home, [kafka], [rabbit], offset)


def cluster(offset: int | None = None, data: Path | None = None) -> NativeDeployment:
    """Three Kafka nodes (RF 3, min ISR 2) on 19092/19102/19112 and three RabbitMQ nodes on
    5673–5675 (management 15673–15675), for the failure labs, plus the extra nodes a lab added
    (:func:`extra_nodes`: Kafka brokers and RabbitMQ nodes 4, 5… on the same port pattern). Every
    port stays below Linux's ephemeral range (32768+), where an outgoing connection could be
    holding it."""
    root = data or settings.data_dir()
    home = root / "run" / "cluster"
    o = port_offset(offset, home)
    ident = _identity(home)
    jars = maven.KAFKA.jar_dir(root / "cache")
    extra = extra_nodes(home)
    voters = tuple((i, 19093 + 10 * (i - 1) + o) for i in CLUSTER_NODES)
    ksettings = KafkaSettings(voters=voters)
    kafka = [KafkaNode(home / f"kafka-{i}", i, 19092 + 10 * (i - 1) + o, dict(voters).get(i), ksettings,
                       ident["kafka_cluster_id"], jars) for i in (*CLUSTER_NODES, *extra["kafka"])]
    names = tuple(f"brokerlab{5672 + i + o}@localhost" for i in CLUSTER_NODES)

    def rabbit(i: int) -> RabbitNode:
        """Node i; an extra node's peer discovery finds only itself: it joins with join_cluster."""
        name = f"brokerlab{5672 + i + o}@localhost"
        return RabbitNode(home / f"rabbitmq-{i}", name,
                          RabbitPorts(amqp=5672 + i + o, management=15672 + i + o, dist=25672 + i + o,
                                      stream=5552 + i + o),
                          ident["erlang_cookie"], peers=names if i in CLUSTER_NODES else (name,),
                          plugins=rabbitmq_native.CLUSTER_PLUGINS,
                          epmd_port=rabbitmq_native.EPMD_PORT + 1 + o)

    rabbits = [rabbit(i) for i in (*CLUSTER_NODES, *extra["rabbitmq"])]
    return NativeDeployment("cluster", home, kafka, rabbits, o)


def extra_nodes(home: Path) -> dict[str, list[int]]:
    """The numbers of the nodes a lab added to the deployment in ``home``, by kind ("kafka",
    "rabbitmq"): its record, so ``status``, ``up`` and ``down`` handle them like the others until
    :func:`record_extra_node` removes them (``down --purge`` forgets them with the rest)."""
    try:
        raw = json.loads((home / EXTRA_NODES_FILE).read_text())
    except (OSError, ValueError):
        raw = {}
    return {kind: sorted(int(i) for i in raw.get(kind, [])) for kind in ("kafka", "rabbitmq")}


def record_extra_node(home: Path, kind: str, number: int, present: bool) -> None:
    """Add node ``number`` of ``kind`` to the deployment's record of extra nodes, or remove it."""
    if number in CLUSTER_NODES:
        raise BrokerlabError(f"Node {number} is one of the cluster's own three, not an extra node.")
    extra = extra_nodes(home)
    extra[kind] = sorted({*extra[kind], number} if present else set(extra[kind]) - {number})
    files.private_dir(home)
    files.write_private(home / EXTRA_NODES_FILE, json.dumps(extra))

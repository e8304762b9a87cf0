"""Kafka in KRaft mode from Maven Central jars: resolve, configure, format, run."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from brokerlab.brokers import config, files
from brokerlab.brokers.node import BrokerNode
from brokerlab.errors import BrokerlabError

MIN_JAVA = 17
# No /tmp/hsperfdata_<user>: every JVM the course starts leaves nothing outside its data dir and HOME.
NO_PERF_DATA = "-XX:-UsePerfData"
# Small-machine JVM: the stock script's 1 GiB heap does not fit Binder next to RabbitMQ + Jupyter.
JVM_OPTIONS = [
    *config.KAFKA_HEAP.split(),
    "-XX:+UseSerialGC",
    "-XX:MaxMetaspaceSize=96m",
    "-XX:ReservedCodeCacheSize=64m",
    "-Xss512k",
    "-Djava.awt.headless=true",
    NO_PERF_DATA,
]
LOG4J2_PROPERTIES = """\
# Written by brokerlab: broker log to stdout, which the launcher sends to kafka.log.
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = org.apache.kafka
logger.kafka.level = INFO
"""


def java_executable() -> str:
    """A Java 17+ runtime: ``$JAVA_HOME/bin/java`` or ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    install = (
        "Install Java 17+: sudo apt-get install -y openjdk-17-jre-headless   "
        "(macOS: brew install openjdk@17; or set JAVA_HOME)"
    )
    if not java or not Path(java).is_file():
        raise BrokerlabError("Java is not installed (Kafka needs Java 17 or newer).", install)
    version = java_major_version(java)
    if version < MIN_JAVA:
        raise BrokerlabError(f"{java} is Java {version}; Kafka 4 needs {MIN_JAVA}+.", install)
    return java


def java_major_version(java: str) -> int:
    """The major version ``java -version`` reports (0 if it cannot be read)."""
    try:
        out = subprocess.run(
            [java, NO_PERF_DATA, "-version"], capture_output=True, text=True, timeout=20
        ).stderr
    except (OSError, subprocess.TimeoutExpired):
        return 0
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def new_cluster_id() -> str:
    """A random KRaft cluster id (base64url of a UUID, as ``kafka-storage random-uuid``)."""
    while True:
        value = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not value.startswith("-"):
            return value


@dataclass(frozen=True)
class KafkaSettings:
    """Cluster-wide settings rendered into every node's server.properties."""

    voters: tuple[tuple[int, int], ...]  # (node id, controller port) of every controller


def render_properties(node_id: int, port: int, controller_port: int, log_dir: Path,
                      settings: KafkaSettings) -> str:
    """server.properties for one combined broker+controller bound to 127.0.0.1: the listeners and
    quorum, then the course's settings (:func:`brokerlab.brokers.config.kafka`)."""
    if len(settings.voters) == 1:
        quorum = f"controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}"
    else:
        quorum = "controller.quorum.voters=" + ",".join(
            f"{nid}@127.0.0.1:{cport}" for nid, cport in settings.voters
        )
    lines = [
        "# Written by brokerlab; edits are overwritten at the next start.",
        "process.roles=broker,controller",
        f"node.id={node_id}",
        quorum,
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        f"log.dirs={log_dir}",
    ]
    lines += [f"{key}={value}" for key, value in config.kafka(len(settings.voters)).items()]
    return "\n".join(lines) + "\n"


class KafkaNode(BrokerNode):
    """One combined KRaft broker+controller."""

    kind = "kafka"

    def __init__(self, home: Path, node_id: int, port: int, controller_port: int,
                 settings: KafkaSettings, cluster_id: str, jars: Path) -> None:
        super().__init__(f"kafka-{node_id}", home, port)
        self.node_id = node_id
        self.controller_port = controller_port
        self.settings = settings
        self.cluster_id = cluster_id
        self.jars = jars

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ports(self) -> list[tuple[str, int]]:
        return [(f"{self.name} client", self.port), (f"{self.name} controller", self.controller_port)]

    def _java(self, main: str, *args: str) -> list[str]:
        return [
            java_executable(), *JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp", f"{self.jars}/*", main, *args,
        ]

    @property
    def formatted_by(self) -> Path:
        """The Kafka version that formatted this node's data (a file the course keeps beside it)."""
        return self.home / "formatted-by"

    def older_data(self) -> bool:
        """True when the data was formatted by another Kafka release than the pinned one: its
        finalized features (e.g. ``share.version``, needed by share groups) stay at the old level
        until they are upgraded (see :meth:`upgrade_features`)."""
        if not (self.data / "meta.properties").is_file():
            return False
        recorded = self.formatted_by.read_text().strip() if self.formatted_by.is_file() else ""
        return recorded != config.KAFKA_VERSION

    def upgrade_features(self) -> None:
        """Finalize the pinned release's features on a running cluster that was formatted by an
        older Kafka (``kafka-features upgrade --release-version``), then record the new version."""
        release = ".".join(config.KAFKA_VERSION.split(".")[:2])
        result = subprocess.run(
            self._java("org.apache.kafka.tools.FeatureCommand", "--bootstrap-server", self.bootstrap,
                       "upgrade", "--release-version", release),
            capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise BrokerlabError(
                f"Upgrading the Kafka features of {self.data} to release {release} failed:\n"
                f"{result.stdout[-1500:]}{result.stderr[-1500:]}",
                "Start from fresh data instead: brokerlab down --purge && brokerlab up")
        self.formatted_by.write_text(config.KAFKA_VERSION)

    def prepare(self) -> None:
        files.private_dir(self.home)
        (self.home / "log4j2.properties").write_text(LOG4J2_PROPERTIES)
        props = self.home / "server.properties"
        props.write_text(render_properties(
            self.node_id, self.port, self.controller_port, self.data, self.settings))
        if (self.data / "meta.properties").is_file():
            return
        standalone = ["--standalone"] if len(self.settings.voters) == 1 else []
        result = subprocess.run(
            self._java("kafka.tools.StorageTool", "format", *standalone,
                       "-t", self.cluster_id, "-c", str(props)),
            capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0:
            raise BrokerlabError(
                f"Formatting Kafka storage in {self.data} failed:\n{result.stdout[-1500:]}"
                f"{result.stderr[-1500:]}",
                "Remove the data and start again: brokerlab down --purge && brokerlab up",
            )
        self.formatted_by.write_text(config.KAFKA_VERSION)

    def command(self) -> list[str]:
        return self._java("kafka.Kafka", str(self.home / "server.properties"))

    def environment(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "JAVA_TOOL"))}

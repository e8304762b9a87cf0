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


def _log4j2(purpose: str, level: str, target: str) -> str:
    """A log4j2.properties sending every log line of at least ``level`` to ``target``."""
    return f"""\
# Written by brokerlab: {purpose}.
appender.out.type = Console
appender.out.name = OUT
appender.out.target = {target}
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = org.apache.kafka
logger.kafka.level = {level}
"""


LOG4J2_PROPERTIES = _log4j2("broker log to stdout, which the launcher sends to kafka.log", "INFO",
                            "SYSTEM_OUT")
# Kafka's command-line tools: their own output on stdout, only errors logged (to stderr).
TOOLS_LOG4J2_PROPERTIES = _log4j2("Kafka's command-line tools log errors only, to stderr", "ERROR",
                                  "SYSTEM_ERR")


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


def render_properties(node_id: int, port: int, controller_port: int | None, log_dir: Path,
                      settings: KafkaSettings) -> str:
    """server.properties for one node bound to 127.0.0.1: a combined broker+controller, or with no
    ``controller_port`` a broker only (it joins the controllers in ``settings.voters``); the
    listeners and quorum, then the course's settings (:func:`brokerlab.brokers.config.kafka`)."""
    listeners = f"PLAINTEXT://127.0.0.1:{port}"
    if controller_port is not None:
        listeners += f",CONTROLLER://127.0.0.1:{controller_port}"
    if len(settings.voters) == 1:
        quorum = f"controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}"
    else:
        quorum = "controller.quorum.voters=" + ",".join(
            f"{nid}@127.0.0.1:{cport}" for nid, cport in settings.voters
        )
    lines = [
        "# Written by brokerlab; edits are overwritten at the next start.",
        f"process.roles={'broker' if controller_port is None else 'broker,controller'}",
        f"node.id={node_id}",
        quorum,
        f"listeners={listeners}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        f"log.dirs={log_dir}",
    ]
    lines += [f"{key}={value}" for key, value in config.kafka(len(settings.voters)).items()]
    return "\n".join(lines) + "\n"


class KafkaNode(BrokerNode):
    """One KRaft node: a combined broker+controller, or a broker only (``controller_port`` None)."""

    kind = "kafka"

    def __init__(self, home: Path, node_id: int, port: int, controller_port: int | None,
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
        named = [("client", self.port), ("controller", self.controller_port)]
        return [(f"{self.name} {label}", port) for label, port in named if port is not None]

    def _java(self, main: str, *args: str, log_config: str = "log4j2.properties",
              jvm: tuple[str, ...] = ()) -> list[str]:
        return [
            java_executable(), *JVM_OPTIONS, *jvm,
            f"-Dlog4j2.configurationFile={self.home / log_config}",
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

    def run_tool(self, main: str, *args: str, fix: str, timeout: float = 120.0) -> str:
        """Run one of Kafka's command-line tools (its Java class ``main``, from the cached jars) with
        this node's JVM settings; returns its output, raises with ``fix`` when it fails."""
        (self.home / "tools-log4j2.properties").write_text(TOOLS_LOG4J2_PROPERTIES)
        # A short-lived tool: the quick first-tier compiler starts it faster on a busy machine.
        command = self._java(main, *args, log_config="tools-log4j2.properties",
                             jvm=("-XX:TieredStopAtLevel=1",))
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise BrokerlabError(f"{main.rsplit('.', 1)[-1]} {' '.join(args)} failed:\n"
                                 f"{result.stdout[-1500:]}{result.stderr[-1500:]}", fix)
        return result.stdout

    def upgrade_features(self) -> None:
        """Finalize the pinned release's features on a running cluster that was formatted by an
        older Kafka (``kafka-features upgrade --release-version``), then record the new version."""
        release = ".".join(config.KAFKA_VERSION.split(".")[:2])
        self.run_tool("org.apache.kafka.tools.FeatureCommand", "--bootstrap-server", self.bootstrap,
                      "upgrade", "--release-version", release,
                      fix="Start from fresh data instead: brokerlab down --purge && brokerlab up")
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

"""What every backend offers — ``up``, ``down``, ``status`` — and the one status shape they report.

Backends: native (``native.py``, the default), Docker Compose (``compose.py``), brokers named by
the environment (``external.py``); testcontainers (``containers.py``) serves the tests only.
``status --json`` prints :meth:`Status.to_json`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

Progress = Callable[[str], None]


@dataclass
class UpReport:
    """What ``up`` did: whether it started anything, and seconds until each round trip passed."""

    already_up: bool
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class NodeStatus:
    """One broker node: alive (its process runs), listening (its port accepts), where it lives."""

    name: str
    port: int
    alive: bool
    listening: bool
    pids: list[int] = field(default_factory=list)
    rss_bytes: int | None = None  # None where it cannot be measured (containers)
    orphans: list[int] = field(default_factory=list)  # PIDs running without a record
    record: str = "ok"  # "ok", or what is wrong with the node's PID record
    log: str = ""
    dir: str = ""


@dataclass
class BrokerStatus:
    """All nodes of one broker (Kafka or RabbitMQ) of a deployment."""

    up: bool
    version: str | None
    nodes: list[NodeStatus] = field(default_factory=list)
    endpoints: dict[str, str] = field(default_factory=dict)  # e.g. bootstrap_servers, amqp_url

    @property
    def pids(self) -> list[int]:
        return [pid for n in self.nodes for pid in n.pids]

    @property
    def rss_bytes(self) -> int | None:
        sizes = [n.rss_bytes for n in self.nodes]
        return sum(s for s in sizes if s is not None) if sizes and None not in sizes else None

    @property
    def orphaned(self) -> list[NodeStatus]:
        return [n for n in self.nodes if n.orphans]


@dataclass
class Status:
    """A deployment as it is now: its two brokers and any course process without a record."""

    backend: str  # native, compose or external
    deployment: str
    data_dir: str | None
    kafka: BrokerStatus
    rabbitmq: BrokerStatus
    orphans: list[dict[str, Any]] = field(default_factory=list)  # pid, name, cmdline

    @property
    def healthy(self) -> bool:
        """Both brokers up, and nothing of the course running without a record."""
        stray = self.orphans or self.kafka.orphaned or self.rabbitmq.orphaned
        return self.kafka.up and self.rabbitmq.up and not stray

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"backend": self.backend, "deployment": self.deployment,
                               "data_dir": self.data_dir, "orphans": self.orphans}
        for key, broker in (("kafka", self.kafka), ("rabbitmq", self.rabbitmq)):
            out[key] = {"up": broker.up, "version": broker.version, **broker.endpoints,
                        "pids": broker.pids, "rss_bytes": broker.rss_bytes,
                        "nodes": [asdict(n) for n in broker.nodes]}
        return out


class Backend(Protocol):
    """Start, stop and inspect one deployment of the course's brokers."""

    def up(self, progress: Progress = print) -> UpReport: ...

    def down(self, purge: bool = False) -> list[str]: ...

    def status(self) -> Status: ...

"""RabbitMQ from the OS package, run as a user-level process under a private directory."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import psutil

from brokerlab.brokers import config, files
from brokerlab.brokers.node import BrokerNode
from brokerlab.errors import BrokerlabError

# The Debian/Ubuntu wrappers in /usr/sbin refuse non-root users or switch user; the real
# scripts live here. Homebrew's scripts run as the user directly.
SERVER_CANDIDATES = (
    "/usr/lib/rabbitmq/bin/rabbitmq-server",
    "/opt/homebrew/sbin/rabbitmq-server",
    "/usr/local/sbin/rabbitmq-server",
)
PLUGINS = ("rabbitmq_management", "rabbitmq_mqtt", "rabbitmq_stomp", "rabbitmq_stream")
CLUSTER_PLUGINS = ("rabbitmq_management", "rabbitmq_stream")
EPMD_PORT = 4371  # each deployment's private epmd (+1 for the cluster, + the port offset), on 127.0.0.1


def server_script() -> str:
    """Path of the real ``rabbitmq-server`` script, or a clear error saying how to install it."""
    override = os.environ.get("BROKERLAB_RABBITMQ_SERVER")
    for candidate in ([override] if override else list(SERVER_CANDIDATES)):
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("rabbitmq-server")
    if found and not found.startswith(("/usr/sbin", "/sbin")):
        return found
    raise BrokerlabError(
        "rabbitmq-server is not installed.",
        "Install it: sudo apt-get install -y rabbitmq-server   (macOS: brew install rabbitmq; "
        "or set BROKERLAB_RABBITMQ_SERVER to its path)",
    )


@dataclass(frozen=True)
class RabbitPorts:
    """Every port of one node."""

    amqp: int
    management: int
    dist: int
    mqtt: int | None = None
    stomp: int | None = None
    stream: int | None = None


def render_conf(ports: RabbitPorts, peers: tuple[str, ...]) -> str:
    """rabbitmq.conf: every listener on 127.0.0.1, optional peer list, then the course's settings
    (:func:`brokerlab.brokers.config.rabbitmq`: the single node's, or a cluster node's with peers)."""
    lines = [
        "# Written by brokerlab; edits are overwritten at the next start.",
        f"listeners.tcp.default = 127.0.0.1:{ports.amqp}",
        "management.tcp.ip = 127.0.0.1",
        f"management.tcp.port = {ports.management}",
        "log.console = true",
        "log.console.level = info",
        "log.file = false",
        # The course uses the default guest user; keep it loopback-only (RabbitMQ's default).
        "loopback_users.guest = true",
    ]
    nodes = 3 if peers else 1
    lines += [f"{key} = {value}" for key, value in config.rabbitmq(nodes).items()]
    if ports.mqtt:
        lines.append(f"mqtt.listeners.tcp.default = 127.0.0.1:{ports.mqtt}")
    if ports.stomp:
        lines.append(f"stomp.listeners.tcp.default = 127.0.0.1:{ports.stomp}")
    if ports.stream:
        # The stream protocol tells clients where a stream's leader is: advertise the address
        # they can reach, not the machine's host name.
        lines += [f"stream.listeners.tcp.default = 127.0.0.1:{ports.stream}",
                  "stream.advertised_host = 127.0.0.1", f"stream.advertised_port = {ports.stream}"]
    if peers:
        lines.append("cluster_formation.peer_discovery_backend = classic_config")
        lines += [f"cluster_formation.classic_config.nodes.{i} = {p}" for i, p in enumerate(peers, 1)]
    return "\n".join(lines) + "\n"


class RabbitNode(BrokerNode):
    """One RabbitMQ node with its own name, ports, cookie and mnesia directory."""

    kind = "rabbitmq"

    def __init__(self, home: Path, nodename: str, ports: RabbitPorts, cookie: str,
                 peers: tuple[str, ...] = (),
                 plugins: tuple[str, ...] = PLUGINS, epmd_port: int = EPMD_PORT) -> None:
        super().__init__(nodename.split("@")[0], home, ports.amqp)
        self.nodename = nodename
        self.rabbit_ports = ports
        self.cookie = cookie
        self.peers = peers
        self.plugins = plugins
        self.epmd_port = epmd_port

    @property
    def memory_limit_mib(self) -> int:
        """The node's memory high watermark as the course configures it (config.RABBIT_MEMORY_MIB)."""
        return config.RABBIT_MEMORY_MIB[3 if self.peers else 1]

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.rabbit_ports.management}"

    def ports(self) -> list[tuple[str, int]]:
        p = self.rabbit_ports
        named = [("AMQP", p.amqp), ("management", p.management), ("Erlang distribution", p.dist),
                 ("MQTT", p.mqtt), ("STOMP", p.stomp), ("stream", p.stream)]
        return [(f"{self.name} {label}", port) for label, port in named if port]

    def prepare(self) -> None:
        for sub in ("home", "mnesia", "logs"):
            files.private_dir(self.home / sub)
        cookie = self.home / "home" / ".erlang.cookie"
        if not cookie.is_file() or cookie.read_text() != self.cookie:
            files.write_private(cookie, self.cookie, mode=0o400)  # Erlang refuses a cookie others can read
        (self.home / "rabbitmq.conf").write_text(
            render_conf(self.rabbit_ports, self.peers))
        (self.home / "enabled_plugins").write_text(f"[{','.join(self.plugins)}].\n")
        (self.home / "advanced.config").write_text("[].\n")
        (self.home / "rabbitmq-env.conf").write_text("")
        (self.home / "conf.d").mkdir(exist_ok=True)

    def command(self) -> list[str]:
        return [server_script()]

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        h = self.home
        env.update({
            "HOME": str(h / "home"),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_USE_LONGNAME": "false",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.rabbit_ports.amqp),
            "RABBITMQ_DIST_PORT": str(self.rabbit_ports.dist),
            "RABBITMQ_MNESIA_BASE": str(h / "mnesia"),
            "RABBITMQ_LOG_BASE": str(h / "logs"),
            "RABBITMQ_CONFIG_FILE": str(h / "rabbitmq.conf"),
            "RABBITMQ_CONFIG_FILES": str(h / "conf.d"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(h / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(h / "enabled_plugins"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(h / "plugins-expand"),
            "RABBITMQ_CONF_ENV_FILE": str(h / "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": str(h / "rabbitmq.pid"),
            # Distribution and epmd on loopback only; epmd on the deployment's own port, so stopping
            # one deployment never takes the epmd from under another.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
        })
        return env

    def graceful_target(self, proc: psutil.Process) -> psutil.Process:
        """SIGTERM goes to the Erlang VM, which stops RabbitMQ cleanly (the script would call
        rabbitmqctl, one more VM start)."""
        for child in proc.children(recursive=True):
            try:
                if child.name().startswith("beam"):
                    return child
            except psutil.Error:
                pass
        return proc

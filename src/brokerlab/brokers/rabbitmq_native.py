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
        return self.tool("rabbitmq-server")

    def tool(self, name: str) -> list[str]:
        """The command running one of RabbitMQ's scripts (``rabbitmq-server``, ``rabbitmqctl``)
        for this node: the real one (``BROKERLAB_RABBITMQ_SERVER`` may name the server), the others
        next to it."""
        if name == "rabbitmq-server":
            return [server_script()]
        path = Path(server_script()).with_name(name)
        if not path.is_file():
            raise BrokerlabError(f"{name} is not installed next to {path.parent / 'rabbitmq-server'}.",
                                 "Install the rabbitmq-server package (it ships all its scripts).")
        return [str(path)]

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


# The node's directory as the chrooted node sees it: bind-mounted there in a private mount
# namespace, together with /proc, so both mounts vanish with the node and the host never sees them.
CHROOT_HOME = "/brokerlab"
CHROOT_BIN = Path(SERVER_CANDIDATES[0]).parent  # a Debian root: the real scripts, as on the host
# sh -c SCRIPT sh <node dir> <root> <script in the root> [its arguments…]
_CHROOT_SCRIPT = ('mount --bind "$1" "$2/brokerlab" && mount -t proc proc "$2/proc" '
                  '&& root=$2 && shift 2 && exec chroot "$root" "$@"')


class ChrootRabbitNode(RabbitNode):
    """A RabbitMQ node from another Debian release's root (e.g. RabbitMQ 4 from Debian 13, whose
    Erlang needs a newer libc than the host's), run under ``chroot``.

    Everything else is the native node's: the same rabbitmq.conf, plugins, cookie and environment,
    the same PID file, tag and clean stop. The recorded process is ``unshare``, which stays the
    parent of the chrooted server, so the node's whole tree is found, tagged and stopped like any
    other native node (``brokerlab status``, ``down``, ``ps``)."""

    def __init__(self, root: Path, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.root = root

    def prepare(self) -> None:
        if not (self.root / CHROOT_BIN.relative_to("/") / "rabbitmq-server").is_file():
            raise BrokerlabError(f"No RabbitMQ in the root {self.root}.",
                                 "Build it with `make test-rabbitmq4` (scripts/rabbitmq4-root.sh).")
        super().prepare()
        (self.root / CHROOT_HOME.lstrip("/")).mkdir(exist_ok=True)

    def tool(self, name: str) -> list[str]:
        """The script from the root, run under ``chroot`` with the node's directory mounted."""
        return ["unshare", "--mount", "--propagation", "private", "--fork", "--", "/bin/sh", "-c",
                _CHROOT_SCRIPT, "sh", str(self.home), str(self.root), str(CHROOT_BIN / name)]

    def environment(self) -> dict[str, str]:
        """The native node's environment, with its paths as the chrooted node sees them."""
        env = super().environment()
        home = str(self.home)
        for key, value in env.items():
            if (key == "HOME" or key.startswith("RABBITMQ_")) and value.startswith(home):
                env[key] = CHROOT_HOME + value[len(home):]
        return env

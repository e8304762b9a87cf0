"""The compose backend: the same brokers as the native one, as containers of docker-compose.yml.

``ComposeBackend`` has the native deployment's interface (``up``, ``down``, ``status``) and
the same endpoints, so notebooks and tests cannot tell the backends apart. Every method first
checks that a Docker engine answers and fails in seconds with the way out when none does.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from brokerlab import settings
from brokerlab.brokers import config, files
from brokerlab.brokers.backend import BrokerStatus, NodeStatus, Progress, Status, UpReport
from brokerlab.brokers.management import Management
from brokerlab.brokers.ports import is_free, is_open
from brokerlab.errors import BrokerlabError
from brokerlab.waiting import wait_for

PROJECT = "systems-of-power"  # the `name:` of docker-compose.yml (tests check they agree)
NO_ENGINE_FIX = ("Start Docker Desktop / the docker service, or use the native backend: "
                 "brokerlab up")
PULL_TIMEOUT = 1800.0  # first use downloads ~0.7 GB of images
START_TIMEOUT = 300.0  # `up --wait` until every healthcheck passes
COMMAND_TIMEOUT = 120.0  # ps, stop, rm, volume rm


def docker_available(timeout: float = 2.0) -> bool:
    """True when a Docker engine answers a ping within ``timeout`` seconds (never raises)."""
    answer: list[bool] = []

    def probe() -> None:
        answer.append(_ping(timeout))

    # A thread bounds the wait even where a connect attempt ignores the timeout (DNS, ssh hosts).
    worker = threading.Thread(target=probe, name="docker-ping", daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    return bool(answer and answer[0])


def _ping(timeout: float) -> bool:
    try:
        import docker  # the Docker SDK, installed with testcontainers (dev extra)
        from docker.errors import DockerException
    except ImportError:
        return _ping_cli(timeout)
    try:
        client = docker.from_env(timeout=max(1, round(timeout)))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (DockerException, requests.RequestException, OSError, ValueError):
        return False


def _ping_cli(timeout: float) -> bool:
    """Fallback without the SDK: ask the docker CLI for the server version."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                                capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def compose_file() -> Path:
    """The course's docker-compose.yml (in the checkout brokerlab was installed from)."""
    root = settings.project_root()
    path = root / "docker-compose.yml" if root else None
    if path is None or not path.is_file():
        raise BrokerlabError(
            "docker-compose.yml was not found (brokerlab is not installed from a course checkout).",
            "Run brokerlab from the course repository, or use the native backend: brokerlab up",
        )
    return path


def parse_ps(output: str) -> list[dict]:
    """Rows of ``docker compose ps --format json``: a JSON array (Compose < 2.21) or one JSON
    object per line (newer)."""
    text = output.strip()
    if not text:
        return []
    if text.startswith("["):
        rows = json.loads(text)
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [row for row in rows if isinstance(row, dict)]


def _container_up(row: dict | None) -> bool:
    """Running, and healthy where the service has a healthcheck."""
    if row is None or str(row.get("State", "")).lower() != "running":
        return False
    return str(row.get("Health", "") or "healthy").lower() == "healthy"


COOKIE_VARIABLE = "BROKERLAB_ERLANG_COOKIE"  # docker-compose.yml hands it to the RabbitMQ cluster


def erlang_cookie() -> str:
    """The Erlang cookie the Compose RabbitMQ cluster shares: ``$BROKERLAB_ERLANG_COOKIE``, else a
    random one made once for this checkout and kept (0600) in its data directory."""
    if os.environ.get(COOKIE_VARIABLE):
        return os.environ[COOKIE_VARIABLE]
    return files.kept_secret(settings.data_dir() / "compose" / "erlang-cookie",
                             lambda: secrets.token_hex(16).upper())


class ComposeBackend:
    """One Kafka + one RabbitMQ (default) or three of each (``cluster``) from docker-compose.yml."""

    def __init__(self, cluster: bool = False) -> None:
        self.cluster = cluster
        self.name = "cluster" if cluster else "single"
        if cluster:
            self.kafka_services = ["kafka-1", "kafka-2", "kafka-3"]
            self.rabbit_services = ["rabbitmq-1", "rabbitmq-2", "rabbitmq-3"]
            self.kafka_ports = [19092, 19102, 19112]
            self.amqp_port, self.management_port = 5673, 15673
            rabbit_ports = [[5672 + i, 15672 + i, 5552 + i] for i in (1, 2, 3)]  # + stream
        else:
            self.kafka_services, self.rabbit_services = ["kafka"], ["rabbitmq"]
            self.kafka_ports = [9092]
            self.amqp_port, self.management_port = 5672, 15672
            rabbit_ports = [[5672, 15672, 1883, 61613, 5552]]  # AMQP, management, MQTT, STOMP, stream
        # Host ports each service publishes (on 127.0.0.1), as in docker-compose.yml.
        self.published: dict[str, list[int]] = {
            **{s: [p] for s, p in zip(self.kafka_services, self.kafka_ports, strict=True)},
            **dict(zip(self.rabbit_services, rabbit_ports, strict=True)),
        }

    # ------------------------------------------------------------------ endpoints -------------
    @property
    def services(self) -> list[str]:
        return [*self.kafka_services, *self.rabbit_services]

    @property
    def volumes(self) -> list[str]:
        """The named volumes holding this deployment's data."""
        return [f"{PROJECT}_{service}-data" for service in self.services]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.kafka_ports)

    @property
    def amqp_url(self) -> str:
        return settings.amqp_url("127.0.0.1", self.amqp_port)

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.management_port}"

    # ------------------------------------------------------------------ docker plumbing -------
    def _require_docker(self) -> None:
        if not docker_available():
            fix = NO_ENGINE_FIX.replace("brokerlab up", "brokerlab cluster up") if self.cluster \
                else NO_ENGINE_FIX
            raise BrokerlabError(
                "No Docker engine answers, and the compose backend runs the brokers as Docker "
                "containers.", fix)

    @functools.cached_property
    def cookie(self) -> str:
        """The Erlang cookie of this checkout's Compose cluster (read or made once)."""
        return erlang_cookie()

    def _compose(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
        """Run ``docker compose`` on the course's file; its stdout, or a BrokerlabError."""
        profile = ["--profile", "cluster"] if self.cluster else []
        cmd = ["docker", "compose", "-p", PROJECT, "-f", str(compose_file()), *profile, *args]
        env = {**os.environ, "COMPOSE_PROGRESS": "plain", COOKIE_VARIABLE: self.cookie}
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                    check=False, env=env)
        except FileNotFoundError:
            raise BrokerlabError("The docker command is not installed.", NO_ENGINE_FIX) from None
        except subprocess.TimeoutExpired:
            raise BrokerlabError(
                f"`docker compose {' '.join(args)}` did not finish within {timeout:.0f} s.",
                f"See what the containers do: docker compose -p {PROJECT} logs --tail 50",
            ) from None
        if result.returncode != 0:
            raise self._failure(args, result.stdout + result.stderr)
        return result.stdout

    def _failure(self, args: tuple[str, ...], output: str) -> BrokerlabError:
        tail = output.strip()[-2000:]
        if "is not a docker command" in output or "unknown command" in output:
            return BrokerlabError("Docker Compose v2 (`docker compose`) is not installed.",
                                  "Install the docker-compose-plugin package, or use the native "
                                  "backend: brokerlab up")
        if "address already in use" in output or "port is already allocated" in output:
            return BrokerlabError(
                f"A port the {self.name} containers publish is taken:\n{tail}",
                "Are the native brokers running? Stop them with `brokerlab down` "
                "(or `brokerlab cluster down`), then try again.")
        return BrokerlabError(
            f"`docker compose {' '.join(args)}` failed:\n{tail}",
            f"Read the logs: docker compose -p {PROJECT} logs --tail 100 {' '.join(self.services)}")

    def _rows(self) -> dict[str, dict]:
        """The ``ps`` row of each of this deployment's services that has a container."""
        rows = parse_ps(self._compose("ps", "--all", "--format", "json", *self.services))
        return {row["Service"]: row for row in rows if row.get("Service") in self.services}

    # ------------------------------------------------------------------ interface -------------
    def is_up(self) -> bool:
        """Every container runs, passes its healthcheck, and its client port accepts connections."""
        self._require_docker()
        return self._all_up(self._rows())

    def _all_up(self, rows: dict[str, dict]) -> bool:
        return all(_container_up(rows.get(s)) for s in self.services) and all(
            is_open(port) for port in [*self.kafka_ports, self.amqp_port])

    def _require_free_ports(self, rows: dict[str, dict]) -> None:
        """Fail fast, naming the ports, when something else (the native brokers?) holds them."""
        busy = [port for service in self.services
                if str(rows.get(service, {}).get("State", "")).lower() != "running"
                for port in self.published[service] if not is_free(port)]
        if busy:
            down = "brokerlab cluster down" if self.cluster else "brokerlab down"
            raise BrokerlabError(
                f"Port(s) {', '.join(map(str, busy))} on 127.0.0.1, which the {self.name} "
                "containers publish, are already in use.",
                f"Are the native brokers running? Stop them with `{down}`; otherwise find the "
                f"owner with `ss -ltnp | grep :{busy[0]}`.")

    def up(self, progress: Progress = print) -> UpReport:
        """Create and start the containers, wait for healthchecks and real round trips; idempotent."""
        self._require_docker()
        rows = self._rows()
        if self._all_up(rows):
            return UpReport(already_up=True)
        self._require_free_ports(rows)
        progress(f"docker compose: preparing {', '.join(self.services)} (the first run downloads "
                 "the images, which can take minutes)")
        self._compose("up", "--no-start", *self.services, timeout=PULL_TIMEOUT)
        t0 = time.monotonic()
        progress("docker compose: starting and waiting for the healthchecks")
        self._compose("up", "-d", "--wait", *self.services, timeout=START_TIMEOUT)
        report = UpReport(already_up=False)
        report.seconds["kafka"] = self._kafka_ready(t0)
        progress(f"Kafka ready: produce/consume round trip passed {report.seconds['kafka']:.1f} s "
                 "after start")
        report.seconds["rabbitmq"] = self._rabbit_ready(t0)
        progress(f"RabbitMQ ready: publish/get round trip passed {report.seconds['rabbitmq']:.1f} s "
                 "after start")
        return report

    def _kafka_ready(self, t0: float) -> float:
        from brokerlab.brokers.roundtrip import kafka_roundtrip

        if self.cluster:
            _wait_for(self._kafka_brokers_registered, 60,
                      "The three Kafka brokers did not all register with the controller in 60 s.")
        kafka_roundtrip(self.bootstrap_servers, timeout=60)
        return time.monotonic() - t0

    def _rabbit_ready(self, t0: float) -> float:
        from brokerlab.brokers.roundtrip import rabbitmq_roundtrip

        if self.cluster:
            _wait_for(self._rabbit_cluster_formed, 90,
                      "The three RabbitMQ nodes did not form one cluster in 90 s.")
        rabbitmq_roundtrip(self.amqp_url, timeout=60)
        return time.monotonic() - t0

    def _kafka_brokers_registered(self) -> bool:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers})
        return len(admin.list_topics(timeout=2).brokers) == len(self.kafka_services)

    def _rabbit_cluster_formed(self) -> bool:
        return Management(self.management_url, timeout=2).running_nodes() == len(self.rabbit_services)

    def down(self, purge: bool = False) -> list[str]:
        """Stop this deployment's containers; ``purge`` also removes them and their volumes."""
        self._require_docker()
        running = [s for s, row in self._rows().items()
                   if str(row.get("State", "")).lower() in ("running", "restarting", "paused")]
        self._compose("stop", *self.services)
        if purge:
            self._compose("rm", "--force", "--stop", "-v", *self.services)
            self._remove_volumes()
        return [s for s in self.services if s in running]

    def _remove_volumes(self) -> None:
        try:
            result = subprocess.run(["docker", "volume", "rm", "--force", *self.volumes],
                                    capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                                    check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BrokerlabError(f"Removing the volumes {self.volumes} failed: {exc}",
                                 f"Remove them by hand: docker volume rm {' '.join(self.volumes)}"
                                 ) from exc
        if result.returncode != 0 and "no such volume" not in result.stderr.lower():
            raise BrokerlabError(f"Removing the volumes failed:\n{result.stderr.strip()[-1000:]}",
                                 f"Remove them by hand: docker volume rm {' '.join(self.volumes)}")

    def status(self) -> Status:
        """The same shape as the native backend's. Container PIDs mean nothing on the host, so
        nodes carry none; their RSS is not measured (None)."""
        self._require_docker()
        rows = self._rows()
        kafka_nodes = [self._node(s, p, rows.get(s)) for s, p in
                       zip(self.kafka_services, self.kafka_ports, strict=True)]
        rabbit_ports = [self.amqp_port + i for i in range(len(self.rabbit_services))]
        rabbit_nodes = [self._node(s, p, rows.get(s)) for s, p in
                        zip(self.rabbit_services, rabbit_ports, strict=True)]
        rabbit_up = all(n.alive and n.listening for n in rabbit_nodes)
        rabbit_version = Management(self.management_url, timeout=3).version() if rabbit_up else None
        return Status(
            backend="compose", deployment=self.name,
            data_dir=None,  # data lives in the Docker volumes named in each node's "dir"
            kafka=BrokerStatus(up=all(n.alive and n.listening for n in kafka_nodes),
                               version=_image_tag(rows.get(self.kafka_services[0])) or config.KAFKA_VERSION,
                               nodes=kafka_nodes,
                               endpoints={"bootstrap_servers": self.bootstrap_servers}),
            rabbitmq=BrokerStatus(up=rabbit_up,
                                  version=rabbit_version,
                                  nodes=rabbit_nodes,
                                  endpoints={"amqp_url": self.amqp_url,
                                             "management_url": self.management_url}),
        )  # containers cannot lose their record: no orphans

    def _node(self, service: str, port: int, row: dict | None) -> NodeStatus:
        return NodeStatus(name=service, port=port, alive=_container_up(row), listening=is_open(port),
                          log=f"docker compose -p {PROJECT} logs {service}",
                          dir=f"docker volume {PROJECT}_{service}-data")


def _wait_for(check: Callable[[], bool], timeout: float, problem: str) -> None:
    wait_for(check, timeout, 0.5, problem=problem,
             fix=f"Read the logs: docker compose -p {PROJECT} logs --tail 100; "
                 "then `brokerlab cluster down --backend compose --purge`.")


def _image_tag(row: dict | None) -> str | None:
    image = str((row or {}).get("Image", ""))
    name, _, tag = image.rpartition(":")
    return tag if name and tag and "/" not in tag else None


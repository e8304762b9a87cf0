"""The compose and testcontainers backends without a Docker engine: fast, clear failures, the
right backend chosen, and the same status shape as the native backend."""

from __future__ import annotations

import builtins
import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from brokerlab import cli
from brokerlab.brokers import backend_for, compose, config, containers, native
from brokerlab.errors import BrokerlabError

NO_ENGINE = "unix:///nonexistent/brokerlab-test/docker.sock"


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the Docker SDK and CLI at a socket that cannot exist."""
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)


@pytest.fixture
def no_compose_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if a backend runs `docker compose` after it should have given up."""
    real_run = subprocess.run

    def guarded(cmd, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert "compose" not in cmd and "volume" not in cmd, f"ran {cmd} without an engine"
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(compose.subprocess, "run", guarded)


# ------------------------------------------------------------------------- engine detection ---
def test_docker_available_answers_false_quickly_without_engine(no_engine: None) -> None:
    t0 = time.monotonic()
    assert compose.docker_available() is False
    assert time.monotonic() - t0 < 3.0


def test_docker_available_cli_fallback_without_sdk(no_engine: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_docker_sdk(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "docker" or name.startswith("docker."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_docker_sdk)
    t0 = time.monotonic()
    assert compose.docker_available() is False
    assert time.monotonic() - t0 < 3.0


def test_docker_available_gives_up_on_an_engine_that_never_answers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket that accepts connections but never replies (a hung engine, a wrong port)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{silent.getsockname()[1]}")
        t0 = time.monotonic()
        assert compose.docker_available(timeout=1.0) is False
        assert time.monotonic() - t0 < 2.5


def test_docker_available_says_yes_to_an_engine_that_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A minimal engine on a TCP port: it answers Docker's /version and /_ping as dockerd does."""

    class Engine(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (json.dumps({"ApiVersion": "1.44", "Version": "27.0.0"}) if self.path.endswith("/version")
                    else "OK" if self.path.endswith("/_ping") else None)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json" if body and body != "OK" else "text/plain")
            self.send_header("Api-Version", "1.44")
            self.end_headers()
            self.wfile.write((body or "").encode())

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Engine) as engine:
        threading.Thread(target=engine.serve_forever, daemon=True).start()
        monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{engine.server_address[1]}")
        monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
        try:
            assert compose.docker_available(timeout=2.0) is True
        finally:
            engine.shutdown()


# --------------------------------------------------------------------- failures, with a fix ---
@pytest.mark.parametrize("cluster", [False, True])
def test_every_compose_method_fails_clearly_without_engine(cluster: bool, no_engine: None,
                                                           no_compose_calls: None) -> None:
    backend = compose.ComposeBackend(cluster=cluster)
    for call in (backend.status, backend.up, backend.down, lambda: backend.down(purge=True),
                 backend.is_up):
        t0 = time.monotonic()
        with pytest.raises(BrokerlabError) as err:
            call()
        assert time.monotonic() - t0 < 3.0
        assert "Docker" in err.value.problem
        assert "Docker Desktop" in err.value.fix and "docker service" in err.value.fix
        native_up = "brokerlab cluster up" if cluster else "brokerlab up"
        assert "native backend" in err.value.fix and native_up in err.value.fix


def test_cli_status_with_compose_backend_prints_the_fix(no_engine: None, no_compose_calls: None,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--backend", "compose"]) == 1
    err = capsys.readouterr().err
    assert "Docker" in err and "brokerlab up" in err


def test_testcontainers_fail_clearly_without_engine(no_engine: None) -> None:
    t0 = time.monotonic()
    with pytest.raises(BrokerlabError) as err, containers.kafka_and_rabbitmq():
        pytest.fail("yielded endpoints without a Docker engine")
    assert time.monotonic() - t0 < 3.0
    assert "Docker" in err.value.problem and "brokerlab up" in err.value.fix


def test_importing_brokerlab_needs_neither_docker_nor_testcontainers() -> None:
    code = ("import sys, brokerlab, brokerlab.cli, brokerlab.brokers.compose, "
            "brokerlab.brokers.containers\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('docker', 'testcontainers'))\n"
            "assert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# -------------------------------------------------------------------------- backend choice -----
@pytest.fixture
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Native deployments built by backend_for keep their identity files in a temp dir."""
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BROKERLAB_BACKEND", raising=False)
    monkeypatch.delenv("BROKERLAB_PORT_OFFSET", raising=False)


def parse(*argv: str):  # type: ignore[no-untyped-def]
    return cli.build_parser().parse_args(list(argv))


def test_backend_flag_picks_compose(private_data: None) -> None:
    single = backend_for(parse("status", "--backend", "compose"))
    assert isinstance(single, compose.ComposeBackend) and not single.cluster
    cluster = backend_for(parse("cluster", "up", "--backend", "compose"))
    assert isinstance(cluster, compose.ComposeBackend) and cluster.cluster
    assert cluster.bootstrap_servers == "127.0.0.1:19092,127.0.0.1:19102,127.0.0.1:19112"


def test_environment_picks_compose(private_data: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROKERLAB_BACKEND", "compose")
    assert isinstance(backend_for(parse("status")), compose.ComposeBackend)
    assert isinstance(backend_for(parse("down")), compose.ComposeBackend)
    # the flag wins over the environment
    assert isinstance(backend_for(parse("status", "--backend", "native")), native.NativeDeployment)


def test_native_stays_the_default(private_data: None) -> None:
    assert isinstance(backend_for(parse("status")), native.NativeDeployment)


def test_port_offset_is_refused_for_compose(private_data: None) -> None:
    with pytest.raises(BrokerlabError, match="native backend only"):
        backend_for(parse("up", "--backend", "compose", "--port-offset", "100"))


# ----------------------------------------------------- behaviour with a fake `docker compose` ---
def ps_rows(services: list[str], state: str = "running", health: str = "healthy") -> list[dict]:
    image = {"kafka": containers.KAFKA_IMAGE, "rabbitmq": containers.RABBITMQ_IMAGE}
    return [{"Name": f"{compose.PROJECT}-{s}-1", "Service": s, "State": state, "Health": health,
             "Image": image[s.split("-")[0]], "Project": compose.PROJECT} for s in services]


class FakeEngine:
    """A stand-in for `docker compose` that keeps state: containers are created, started, stopped
    and removed as the real commands would, and `ps` reports them. Tests assert on that state (what
    the backend left behind), not on which commands it chose to run."""

    def __init__(self, backend: compose.ComposeBackend, rows: list[dict] | None = None) -> None:
        self.backend = backend
        self.containers: dict[str, dict] = {row["Service"]: dict(row) for row in rows or []}
        self.starts: dict[str, int] = dict.fromkeys(self.containers, 0)

    def __call__(self, *args: str, timeout: float = 0) -> str:
        command, services = args[0], [a for a in args[1:] if a in self.backend.services]
        if command == "ps":
            return json.dumps([self.containers[s] for s in services if s in self.containers])
        for service in services:
            if command == "up" and service not in self.containers:
                self.containers[service] = ps_rows([service], state="created", health="")[0]
                self.starts[service] = 0
            if command == "up" and "-d" in args and self.containers[service]["State"] != "running":
                self.containers[service].update(State="running", Health="healthy")
                self.starts[service] += 1
            elif command == "stop" and service in self.containers:
                self.containers[service].update(State="exited", Health="")
            elif command == "rm":
                self.containers.pop(service, None)
        return ""

    def port_open(self, port: int, *args: object, **kwargs: object) -> bool:
        """A published port answers while its container runs."""
        return any(port in self.backend.published[s] and row["State"] == "running"
                   for s, row in self.containers.items())

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
        monkeypatch.setattr(self.backend, "_compose", self)
        monkeypatch.setattr(compose, "is_open", self.port_open)
        return self


@pytest.fixture
def engine_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compose, "docker_available", lambda timeout=2.0: True)
    monkeypatch.setattr(compose.Management, "version", lambda self: "3.13.7")


def test_parse_ps_handles_array_and_json_lines() -> None:
    rows = ps_rows(["kafka", "rabbitmq"])
    as_array = json.dumps(rows)
    as_lines = "\n".join(json.dumps(r) for r in rows) + "\n"
    assert compose.parse_ps(as_array) == rows
    assert compose.parse_ps(as_lines) == rows
    assert compose.parse_ps("") == [] and compose.parse_ps("[]\n") == []


def shape(value: object) -> object:
    """Keys (recursively) of a status dict; list items by the shape of their first element."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value and isinstance(value[0], dict) else []
    return None


def test_status_has_the_native_shape(engine_up: None, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    backend = compose.ComposeBackend()
    FakeEngine(backend, ps_rows(backend.services)).install(monkeypatch)
    status = backend.status().to_json()
    native_status = native.single(data=tmp_path).status().to_json()  # nothing started: reads files
    assert shape(status) == shape(native_status)
    json.dumps(status)  # serialisable as `status --json` prints it
    assert status["backend"] == "compose" and status["deployment"] == "single"
    assert status["kafka"]["up"] and status["rabbitmq"]["up"]
    assert status["kafka"]["bootstrap_servers"] == "127.0.0.1:9092"
    assert status["kafka"]["version"] == config.KAFKA_VERSION and status["rabbitmq"]["version"] == "3.13.7"
    assert status["rabbitmq"]["amqp_url"] == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert status["rabbitmq"]["management_url"] == "http://127.0.0.1:15672"
    assert status["kafka"]["pids"] == [] and status["rabbitmq"]["pids"] == []


def test_status_is_down_when_unhealthy_or_missing(engine_up: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    backend = compose.ComposeBackend(cluster=True)
    rows = ps_rows(["kafka-1", "kafka-2"]) + ps_rows(RABBITS := ["rabbitmq-1", "rabbitmq-2",
                                                                 "rabbitmq-3"], health="starting")
    FakeEngine(backend, rows).install(monkeypatch)
    status = backend.status().to_json()
    assert status["kafka"]["up"] is False  # kafka-3 has no container
    assert status["rabbitmq"]["up"] is False  # still starting
    assert [n["alive"] for n in status["kafka"]["nodes"]] == [True, True, False]
    assert [n["port"] for n in status["rabbitmq"]["nodes"]] == [5673, 5674, 5675]
    assert [n["name"] for n in status["rabbitmq"]["nodes"]] == RABBITS


@pytest.fixture
def proofs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The endpoints the round trips were proved against (and the cluster checks, in order)."""
    from brokerlab.brokers import roundtrip

    proved: list[str] = []
    monkeypatch.setattr(roundtrip, "kafka_roundtrip", lambda b, timeout: proved.append(b) or 0.01)
    monkeypatch.setattr(roundtrip, "rabbitmq_roundtrip", lambda u, timeout: proved.append(u) or 0.01)
    monkeypatch.setattr(compose, "is_free", lambda port, *a, **k: True)
    return proved


@pytest.mark.parametrize("cluster", [False, True])
def test_up_starts_every_container_and_proves_round_trips(cluster: bool, engine_up: None,
                                                          proofs: list[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    backend = compose.ComposeBackend(cluster=cluster)
    engine = FakeEngine(backend).install(monkeypatch)
    formed: list[str] = []
    monkeypatch.setattr(backend, "_kafka_brokers_registered", lambda: formed.append("kafka") or True)
    monkeypatch.setattr(backend, "_rabbit_cluster_formed", lambda: formed.append("rabbit") or True)
    messages: list[str] = []
    assert not backend.is_up()
    report = backend.up(progress=messages.append)
    assert report.already_up is False and set(report.seconds) == {"kafka", "rabbitmq"}
    assert backend.is_up() and backend.status().to_json()["kafka"]["up"]
    assert engine.starts == dict.fromkeys(backend.services, 1)
    assert proofs == [backend.bootstrap_servers, backend.amqp_url]
    assert formed == (["kafka", "rabbit"] if cluster else [])
    assert any("round trip" in m for m in messages)


def test_up_when_already_up_starts_nothing(engine_up: None, proofs: list[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    backend = compose.ComposeBackend()
    engine = FakeEngine(backend).install(monkeypatch)
    backend.up(progress=lambda _: None)
    report = backend.up(progress=lambda _: None)
    assert report.already_up is True and report.seconds == {}
    assert engine.starts == dict.fromkeys(backend.services, 1), "a running container was restarted"


@pytest.mark.parametrize("cluster", [False, True])
def test_up_refuses_ports_held_by_someone_else(cluster: bool, engine_up: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    backend = compose.ComposeBackend(cluster=cluster)
    engine = FakeEngine(backend).install(monkeypatch)
    taken = backend.kafka_ports[0]
    monkeypatch.setattr(compose, "is_free", lambda port, *a, **k: port != taken)
    with pytest.raises(BrokerlabError) as err:
        backend.up(progress=lambda _: None)
    assert str(taken) in err.value.problem
    assert ("brokerlab cluster down" if cluster else "brokerlab down") in err.value.fix
    assert engine.containers == {}, "nothing may be created or started"


def test_down_stops_only_this_deployment_and_purges_its_volumes(
        engine_up: None, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = compose.ComposeBackend()
    rows = ps_rows(["kafka"]) + ps_rows(["rabbitmq"], state="exited", health="")
    engine = FakeEngine(backend, rows).install(monkeypatch)
    removed: list[list[str]] = []
    monkeypatch.setattr(compose.subprocess, "run", lambda cmd, **kw: removed.append(cmd) or
                        subprocess.CompletedProcess(cmd, 0, "", ""))
    assert backend.down() == ["kafka"]
    assert {s: row["State"] for s, row in engine.containers.items()} == {"kafka": "exited",
                                                                          "rabbitmq": "exited"}
    assert removed == [], "a plain down keeps the data volumes"
    assert backend.down(purge=True) == []
    assert engine.containers == {}
    assert removed == [["docker", "volume", "rm", "--force", f"{compose.PROJECT}_kafka-data",
                        f"{compose.PROJECT}_rabbitmq-data"]]


def test_compose_command_line_and_port_clash(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_run(cmd, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(cmd)
        assert "shell" not in kwargs and kwargs["timeout"] > 0
        return subprocess.CompletedProcess(cmd, 1, "", "Bind for 127.0.0.1:9092 failed: port is "
                                                       "already allocated")

    monkeypatch.setattr(compose.subprocess, "run", fake_run)
    backend = compose.ComposeBackend(cluster=True)
    with pytest.raises(BrokerlabError) as err:
        backend._compose("up", "-d", "--wait", *backend.services)
    assert seen[0][:7] == ["docker", "compose", "-p", compose.PROJECT, "-f",
                           str(compose.compose_file()), "--profile"]
    assert seen[0][7:10] == ["cluster", "up", "-d"]
    assert "brokerlab down" in err.value.fix


# ------------------------------------------------ testcontainers set-up, built without an engine --
@pytest.fixture
def offline_testcontainers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Container objects can be built (not started) without an engine."""
    pytest.importorskip("testcontainers")
    monkeypatch.setattr("testcontainers.core.container.DockerClient", lambda **kwargs: object())


def test_rabbitmq_container_ignores_leaked_native_settings(offline_testcontainers: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RABBITMQ_NODE_PORT", "5999")
    monkeypatch.setenv("RABBITMQ_DEFAULT_USER", "alice")
    monkeypatch.setenv("RABBITMQ_DEFAULT_PASS", "secret")
    monkeypatch.setenv("RABBITMQ_DEFAULT_VHOST", "elsewhere")
    rabbit = containers._rabbitmq_container()
    assert rabbit.image.endswith(containers.RABBITMQ_IMAGE)
    assert (rabbit.port, rabbit.username, rabbit.password, rabbit.vhost) == (5672, "guest", "guest", "/")
    assert {"5672", "15672"} <= set(rabbit.ports)
    assert str(rabbit.env["RABBITMQ_NODE_PORT"]) == "5672"


def test_kafka_container_runs_apache_kafka_in_kraft_mode(offline_testcontainers: None) -> None:
    kafka = containers._kafka_container()
    assert kafka.image.endswith(containers.KAFKA_IMAGE)
    assert set(kafka.ports) == {str(containers.KAFKA_PORT)}
    env = kafka.env
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    names = {item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")}
    mapped = {item.split(":")[0] for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")}
    assert names == mapped and env["KAFKA_CONTROLLER_LISTENER_NAMES"] in names
    assert f"HOST://:{containers.KAFKA_PORT}" in env["KAFKA_LISTENERS"].split(",")
    assert "KAFKA_ADVERTISED_LISTENERS" not in env  # written once the mapped port is known
    assert containers.START_SCRIPT in " ".join(kafka._command)


def test_environment_endpoints_select_the_external_backend(monkeypatch):
    import argparse

    from brokerlab.brokers import backend_for, external, native

    monkeypatch.delenv("BROKERLAB_BACKEND", raising=False)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "class-server:9092")
    args = argparse.Namespace(backend=None, port_offset=None, cluster=False)
    backend = backend_for(args)
    assert isinstance(backend, external.ExternalBackend)
    with pytest.raises(BrokerlabError, match="--purge"):
        backend.down(purge=True)
    assert backend.down() == []  # nothing of ours to stop
    args.backend = "native"  # an explicit choice still wins
    assert isinstance(backend_for(args), native.NativeDeployment)

"""docker-compose.yml checked without a Docker engine: pins, ports, listeners, clusters.

The file is parsed with PyYAML (which resolves the `<<:` merges the file uses) and validated against
the Compose Specification's JSON schema, the one Docker Compose's loader (compose-go) uses, which
`scripts/setup.sh --test` fetches. Where a Compose v2 client is installed, it validates the file too
(`docker compose config -q`, no engine needed).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from brokerlab.brokers import compose, config, containers

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = ROOT / ".brokerlab" / "tools" / "compose-spec.json"  # see scripts/setup.sh
KAFKA_SINGLE = ["kafka"]
KAFKA_CLUSTER = ["kafka-1", "kafka-2", "kafka-3"]
RABBIT_CLUSTER = ["rabbitmq-1", "rabbitmq-2", "rabbitmq-3"]


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(spec: dict) -> dict[str, dict]:
    return spec["services"]


def env(service: dict) -> dict[str, str]:
    """A service's environment as strings (list or mapping syntax)."""
    raw = service.get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {k: str(v) for k, v in raw.items()}


def published(service: dict) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) of every published port (short or long syntax)."""
    out = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            out.append((str(entry.get("host_ip", "")), int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].split(":")
        if len(parts) == 3:
            out.append((parts[0], int(parts[1]), int(parts[2])))
        elif len(parts) == 2:
            out.append(("", int(parts[0]), int(parts[1])))
        else:
            out.append(("", 0, int(parts[0])))
    return out


def listeners(value: str) -> dict[str, tuple[str, int]]:
    """'NAME://host:port,...' -> {NAME: (host, port)}."""
    result = {}
    for item in value.split(","):
        name, _, address = item.strip().partition("://")
        host, _, port = address.rpartition(":")
        result[name] = (host, int(port))
    return result


def protocol_map(value: str) -> dict[str, str]:
    return dict(item.strip().split(":", 1) for item in value.split(","))


def host_ports(service: dict) -> set[int]:
    return {host for _, host, _ in published(service)}


def kafka_pin() -> str:
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>",
                      (ROOT / "brokers" / "kafka" / "pom.xml").read_text())
    assert match, "no <kafka.version> in brokers/kafka/pom.xml"
    return match.group(1)


def stream_settings(conf: str) -> dict[str, str]:
    """The stream-protocol lines of a rabbitmq.conf."""
    pairs = (line.split("=", 1) for line in conf.splitlines() if line.startswith("stream."))
    return {k.strip(): v.strip() for k, v in pairs}


def mounted_file(service: dict, target: str) -> Path:
    """The repository file a service bind-mounts at ``target``."""
    for volume in service.get("volumes", []):
        source, _, rest = str(volume).partition(":")
        if rest.split(":")[0] == target:
            assert source.startswith("./"), f"{volume}: bind mounts must stay inside the repo"
            return ROOT / source
    raise AssertionError(f"nothing mounted at {target}")


# ---------------------------------------------------------------------------- every service ---
def test_expected_services_and_profiles(services: dict) -> None:
    single = {n for n, s in services.items() if not s.get("profiles")}
    cluster = {n for n, s in services.items() if "cluster" in s.get("profiles", [])}
    assert single == {"kafka", "rabbitmq"}
    assert cluster == set(KAFKA_CLUSTER + RABBIT_CLUSTER)


def test_every_image_is_pinned(services: dict) -> None:
    for name, service in services.items():
        image = service["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and "/" not in tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest" and re.match(r"^\d+\.\d+", tag), f"{name}: {image!r} is not pinned"


def test_every_published_port_is_bound_to_loopback(services: dict) -> None:
    for name, service in services.items():
        ports = published(service)
        assert ports, f"{name} publishes nothing"
        for host_ip, host, _ in ports:
            where = host_ip or "all interfaces"
            assert host_ip == "127.0.0.1", f"{name}: port {host} is published on {where}"


def test_every_service_has_a_healthcheck(services: dict) -> None:
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        assert not check.get("disable"), f"{name}: healthcheck disabled"
        test = check.get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: no healthcheck"


def test_healthchecks_use_tools_in_the_images(services: dict) -> None:
    for name in KAFKA_SINGLE + KAFKA_CLUSTER:
        test = " ".join(services[name]["healthcheck"]["test"])
        host_port = published(services[name])[0][1]
        assert "/opt/kafka/bin/kafka-" in test, name
        assert f"127.0.0.1:{host_port}" in test, f"{name}: the probe must use its own listener"
    for name in ["rabbitmq", *RABBIT_CLUSTER]:
        assert services[name]["healthcheck"]["test"][1] == "rabbitmq-diagnostics", name


# ------------------------------------------------------------------------------------ Kafka ---
@pytest.mark.parametrize("name", KAFKA_SINGLE + KAFKA_CLUSTER)
def test_kafka_listener_names_are_consistent(services: dict, name: str) -> None:
    e = env(services[name])
    bound = listeners(e["KAFKA_LISTENERS"])
    advertised = listeners(e["KAFKA_ADVERTISED_LISTENERS"])
    protocols = protocol_map(e["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"])
    controller = e["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert set(bound) == set(protocols), "every listener needs a security protocol, and only those"
    assert controller in bound and controller not in advertised
    assert set(advertised) <= set(bound)
    assert advertised.keys() == set(bound) - {controller}
    assert e["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    assert e["KAFKA_INTER_BROKER_LISTENER_NAME"] != controller
    assert len({port for _, port in bound.values()}) == len(bound), "two listeners share a port"
    assert e["KAFKA_PROCESS_ROLES"] == "broker,controller"


@pytest.mark.parametrize("name", KAFKA_SINGLE + KAFKA_CLUSTER)
def test_kafka_host_and_internal_listeners(services: dict, name: str) -> None:
    service = services[name]
    e = env(service)
    bound = listeners(e["KAFKA_LISTENERS"])
    advertised = listeners(e["KAFKA_ADVERTISED_LISTENERS"])
    [(_, host_port, container_port)] = published(service)
    to_host = [n for n, addr in advertised.items() if addr == ("127.0.0.1", host_port)]
    assert len(to_host) == 1, f"{name} must advertise 127.0.0.1:{host_port} to the host"
    assert bound[to_host[0]][1] == container_port, "the published port must reach that listener"
    internal = [n for n in advertised if n != to_host[0]]
    assert len(internal) == 1
    in_host, in_port = advertised[internal[0]]
    assert in_host in (name, service.get("hostname")), "other containers need a resolvable name"
    assert bound[internal[0]][1] == in_port
    assert e["KAFKA_INTER_BROKER_LISTENER_NAME"] == internal[0]


def test_single_kafka_matches_the_native_single_node(services: dict) -> None:
    service = services["kafka"]
    e = env(service)
    assert host_ports(service) == {9092}
    assert listeners(e["KAFKA_ADVERTISED_LISTENERS"])["HOST"] == ("127.0.0.1", 9092)
    assert e["KAFKA_NODE_ID"] == "1"
    voters = e["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert voters == f"1@kafka:{listeners(e['KAFKA_LISTENERS'])['CONTROLLER'][1]}"
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "KAFKA_DEFAULT_REPLICATION_FACTOR",
                "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR"):
        assert e[key] == "1", key


@pytest.mark.parametrize("name", KAFKA_SINGLE + KAFKA_CLUSTER)
def test_kafka_small_machine_settings(services: dict, name: str) -> None:
    e = env(services[name])
    assert e["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    assert e["KAFKA_HEAP_OPTS"].split() == ["-Xms128m", "-Xmx256m"]
    assert int(e["KAFKA_LOG_CLEANER_DEDUPE_BUFFER_SIZE"]) <= 32 * 2**20
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", e["CLUSTER_ID"]), "CLUSTER_ID is a base64 UUID"
    assert any(v.endswith(":/var/lib/kafka/data") for v in services[name]["volumes"])
    assert e["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"


def test_kafka_cluster_quorum_and_replication(services: dict) -> None:
    ids, cluster_ids, expected_voters = set(), set(), set()
    for name in KAFKA_CLUSTER:
        e = env(services[name])
        ids.add(e["KAFKA_NODE_ID"])
        cluster_ids.add(e["CLUSTER_ID"])
        expected_voters.add(f"{e['KAFKA_NODE_ID']}@{name}:{listeners(e['KAFKA_LISTENERS'])['CONTROLLER'][1]}")
        assert e["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert e["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert e["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert e["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert e["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
    assert ids == {"1", "2", "3"}
    assert len(cluster_ids) == 1, "the three nodes must share one CLUSTER_ID"
    assert cluster_ids != {env(services["kafka"])["CLUSTER_ID"]}
    for name in KAFKA_CLUSTER:
        voters = set(env(services[name])["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(","))
        assert voters == expected_voters, f"{name}: voters must list all three controllers"


def test_kafka_cluster_ports_match_the_native_cluster(services: dict) -> None:
    assert [host_ports(services[n]) for n in KAFKA_CLUSTER] == [{19092}, {19102}, {19112}]
    assert compose.ComposeBackend(cluster=True).bootstrap_servers == \
        "127.0.0.1:19092,127.0.0.1:19102,127.0.0.1:19112"


def test_kafka_image_is_the_native_pin(services: dict) -> None:
    for name in KAFKA_SINGLE + KAFKA_CLUSTER:
        assert services[name]["image"] == f"apache/kafka:{kafka_pin()}", name
    assert f"apache/kafka:{config.KAFKA_VERSION}" == containers.KAFKA_IMAGE


# --------------------------------------------------------------------------------- RabbitMQ ---
def test_rabbitmq_is_a_3x_image_everywhere(services: dict) -> None:
    images = {services[n]["image"] for n in ["rabbitmq", *RABBIT_CLUSTER]}
    assert images == {containers.RABBITMQ_IMAGE}
    repo, _, tag = containers.RABBITMQ_IMAGE.partition(":")
    assert repo == "rabbitmq" and tag.startswith("3.") and tag.endswith("-management")


def test_single_rabbitmq_ports_and_plugins(services: dict) -> None:
    service = services["rabbitmq"]
    assert {(h, c) for _, h, c in published(service)} == {
        (5672, 5672), (15672, 15672), (1883, 1883), (61613, 61613), (5552, 5552)}
    plugins = mounted_file(service, "/etc/rabbitmq/enabled_plugins").read_text()
    assert re.fullmatch(r"\s*\[[a-z_,\s]+\]\.\s*", plugins), "enabled_plugins is an Erlang list term"
    for plugin in ("rabbitmq_management", "rabbitmq_mqtt", "rabbitmq_stomp", "rabbitmq_stream"):
        assert plugin in plugins
    conf = mounted_file(service, "/etc/rabbitmq/conf.d/90-brokerlab.conf").read_text()
    assert stream_settings(conf) == {"stream.listeners.tcp.default": "5552",
                                     "stream.advertised_host": "127.0.0.1", "stream.advertised_port": "5552"}
    assert service.get("hostname") == "rabbitmq", "a fixed node name keeps the data on recreate"


def test_rabbitmq_cluster(services: dict) -> None:
    cookies, hostnames = set(), []
    for i, name in enumerate(RABBIT_CLUSTER, 1):
        service = services[name]
        assert {(h, c) for _, h, c in published(service)} == {(5672 + i, 5672), (15672 + i, 15672),
                                                               (5552 + i, 5552)}
        cookies.add(env(service)["RABBITMQ_ERLANG_COOKIE"])
        hostnames.append(service["hostname"])
        conf = mounted_file(service, "/etc/rabbitmq/conf.d/90-brokerlab.conf").read_text()
        assert "cluster_formation.peer_discovery_backend = classic_config" in conf
        peers = re.findall(r"^cluster_formation\.classic_config\.nodes\.\d+\s*=\s*(\S+)", conf, re.M)
        assert sorted(peers) == [f"rabbit@{h}" for h in RABBIT_CLUSTER]
        assert "rabbitmq_stream" in mounted_file(service, "/etc/rabbitmq/enabled_plugins").read_text()
        # Each node advertises the stream port the host reaches it on.
        stream = stream_settings(conf) | stream_settings(
            mounted_file(service, "/etc/rabbitmq/conf.d/91-stream.conf").read_text())
        assert stream == {"stream.listeners.tcp.default": "5552", "stream.advertised_host": "127.0.0.1",
                          "stream.advertised_port": str(5552 + i)}
    assert cookies == {"${BROKERLAB_ERLANG_COOKIE:-}"}, "one shared cookie, from the environment, none in git"
    assert hostnames == RABBIT_CLUSTER
    for name in RABBIT_CLUSTER[1:]:
        assert services[name]["depends_on"]["rabbitmq-1"]["condition"] == "service_healthy"


def test_no_port_is_published_twice(services: dict) -> None:
    ports = [h for s in services.values() for _, h, _ in published(s)]
    assert len(ports) == len(set(ports)), "single and cluster must run side by side"


# ------------------------------------------------------------------- agreement with the code --
def test_backend_constants_match_the_file(spec: dict, services: dict) -> None:
    assert spec["name"] == compose.PROJECT
    for cluster in (False, True):
        backend = compose.ComposeBackend(cluster=cluster)
        assert set(backend.services) <= set(services)
        assert [host_ports(services[s]) for s in backend.kafka_services] == [
            {p} for p in backend.kafka_ports]
        for service in backend.services:
            assert host_ports(services[service]) == set(backend.published[service]), service
        first_rabbit = services[backend.rabbit_services[0]]
        assert {backend.amqp_port, backend.management_port} <= host_ports(first_rabbit)
        for volume in backend.volumes:
            assert volume.removeprefix(f"{compose.PROJECT}_") in spec["volumes"]
    assert compose.compose_file() == COMPOSE_FILE


# ------------------------------------------------ the Compose Specification's schema ----
@pytest.fixture(scope="module")
def schema_validator() -> jsonschema.protocols.Validator:
    if not COMPOSE_SCHEMA.is_file():
        pytest.fail(f"{COMPOSE_SCHEMA} is missing: run scripts/setup.sh --test (it fetches the schema)")
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    return jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(validator: jsonschema.protocols.Validator, document: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_follows_the_compose_specification(schema_validator, spec: dict) -> None:
    assert schema_errors(schema_validator, spec) == []


@pytest.mark.parametrize("service, key, value, complaint", [
    ("kafka", "restart_policy", "always", "'restart_policy' was unexpected"),  # not a service key
    ("rabbitmq", "ports", "5672:5672", "is not of type 'array'"),
    ("kafka-1", "depends_on", {"kafka-2": {"condition": "healthy"}}, "is not valid under any"),
])
def test_schema_validation_rejects_a_broken_file(schema_validator, spec: dict, service: str, key: str,
                                                 value: object, complaint: str) -> None:
    broken = {**spec, "services": {**spec["services"], service: {**spec["services"][service], key: value}}}
    errors = schema_errors(schema_validator, broken)
    assert any(complaint in error for error in errors), errors


# ------------------------------------------------------------- the Compose client, if any ----
def compose_command() -> list[str] | None:
    """`docker compose` (plugin) or a standalone Compose v2 `docker-compose`, if one is installed."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for cmd in candidates:
        try:
            out = subprocess.run([*cmd, "version", "--short"], capture_output=True, text=True,
                                 timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and re.match(r"v?2\.|v?[3-9]\.", out.stdout.strip()):
            return cmd
    return None


@pytest.mark.parametrize("profile", [[], ["--profile", "cluster"]], ids=["single", "cluster"])
def test_compose_client_accepts_the_file(profile: list[str]) -> None:
    cmd = compose_command()
    if cmd is None:
        pytest.skip("no Compose v2 client installed (the schema test above still validates the file)")
    result = subprocess.run([*cmd, "-f", str(COMPOSE_FILE), *profile, "config", "-q"],
                            capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_the_compose_backend_hands_the_cluster_a_private_random_cookie(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv(compose.COOKIE_VARIABLE, raising=False)
    first = compose.erlang_cookie()
    assert re.fullmatch(r"[0-9A-F]{32}", first) and compose.erlang_cookie() == first  # kept
    stored = tmp_path / "compose" / "erlang-cookie"
    assert stored.stat().st_mode & 0o777 == 0o600 and (tmp_path / "compose").stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv(compose.COOKIE_VARIABLE, "MINE")
    assert compose.erlang_cookie() == "MINE"  # the user's own wins
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path / "other-checkout"))
    monkeypatch.delenv(compose.COOKIE_VARIABLE)
    assert compose.erlang_cookie() != first  # each checkout makes its own

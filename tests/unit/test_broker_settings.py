"""One definition of the course's broker settings (brokerlab.brokers.config), and every backend
says exactly that: native (rendered files), Docker Compose (docker-compose.yml and the RabbitMQ
conf files it mounts) and testcontainers. Each comparison is of the complete set of settings;
only the topology (listeners, quorum, paths, peers), which differs by nature, is set aside."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from brokerlab.brokers import config, containers, maven, native
from brokerlab.brokers.kafka_native import JVM_OPTIONS, render_properties
from brokerlab.brokers.rabbitmq_native import render_conf

ROOT = Path(__file__).resolve().parents[2]
SERVICES = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
KAFKA_TOPOLOGY_ENV = set(config.kafka_env(dict.fromkeys(config.KAFKA_TOPOLOGY, ""))) | {"KAFKA_NODE_ID"}
NOT_SETTINGS = {"CLUSTER_ID", "KAFKA_HEAP_OPTS"}  # the KRaft cluster id; the JVM, compared apart


def course_kafka_env(environment: dict) -> dict[str, str]:
    """A Kafka container's settings: its KAFKA_* variables without topology, as strings."""
    env = {key: str(value) for key, value in environment.items()}
    assert set(env) >= KAFKA_TOPOLOGY_ENV - {"KAFKA_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS",
                                              "KAFKA_ADVERTISED_LISTENERS"}, "topology missing"
    return {k: v for k, v in env.items() if k not in KAFKA_TOPOLOGY_ENV | NOT_SETTINGS}


def conf_settings(text: str) -> dict[str, str]:
    """A rabbitmq.conf's settings without topology (listeners, peers, logging, guest's rule)."""
    pairs = (line.split("=", 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs if not config.is_rabbit_topology(k.strip())}


@pytest.mark.parametrize("deployment, nodes", [(native.single, 1), (native.cluster, 3)])
def test_native_kafka_renders_exactly_the_course_settings(tmp_path, deployment, nodes) -> None:
    for node in deployment(data=tmp_path).kafka:
        text = render_properties(node.node_id, node.port, node.controller_port, node.data, node.settings)
        rendered = dict(line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
        assert {k: v for k, v in rendered.items() if k not in config.KAFKA_TOPOLOGY} == config.kafka(nodes)
    assert " ".join(o for o in JVM_OPTIONS if o.startswith(("-Xms", "-Xmx"))) == config.KAFKA_HEAP


@pytest.mark.parametrize("services, nodes", [(["kafka"], 1), (["kafka-1", "kafka-2", "kafka-3"], 3)])
def test_compose_kafka_has_exactly_the_course_settings(services, nodes) -> None:
    for name in services:
        environment = SERVICES[name]["environment"]
        assert course_kafka_env(environment) == config.kafka_env(config.kafka(nodes)), name
        assert environment["KAFKA_HEAP_OPTS"] == config.KAFKA_HEAP


def test_testcontainers_kafka_has_exactly_the_course_settings() -> None:
    assert course_kafka_env(containers.KAFKA_ENV) == config.kafka_env(config.kafka(1))
    assert containers.KAFKA_ENV["KAFKA_HEAP_OPTS"] == config.KAFKA_HEAP


@pytest.mark.parametrize("deployment, nodes", [(native.single, 1), (native.cluster, 3)])
def test_native_rabbitmq_renders_exactly_the_course_settings(tmp_path, deployment, nodes) -> None:
    for node in deployment(data=tmp_path).rabbit:
        assert conf_settings(render_conf(node.rabbit_ports, node.peers)) == config.rabbitmq(nodes)
        watermark = config.rabbitmq(nodes)["vm_memory_high_watermark.absolute"]
        assert f"{node.memory_limit_mib}MiB" == watermark  # what rabbitctl restores after lab 04


@pytest.mark.parametrize("services, conf, nodes", [
    (["rabbitmq"], "compose-single.conf", 1),
    (["rabbitmq-1", "rabbitmq-2", "rabbitmq-3"], "compose-cluster.conf", 3),
])
def test_compose_rabbitmq_has_exactly_the_course_settings(services, conf, nodes) -> None:
    mount = f"./brokers/rabbitmq/{conf}:/etc/rabbitmq/conf.d/90-brokerlab.conf:ro"
    for name in services:
        assert mount in SERVICES[name]["volumes"]
    assert conf_settings((ROOT / "brokers" / "rabbitmq" / conf).read_text()) == config.rabbitmq(nodes)


def test_testcontainers_rabbitmq_mounts_the_single_node_settings_and_plugins() -> None:
    compose_mounts = {volume.rsplit(":", 2)[0].removeprefix("./brokers/rabbitmq/"): volume.rsplit(":", 2)[1]
                      for volume in SERVICES["rabbitmq"]["volumes"] if volume.startswith("./")}
    assert compose_mounts == containers.RABBITMQ_FILES


def test_a_changed_setting_is_caught() -> None:
    """The comparison is not vacuous: one setting more, or one value off, and it differs."""
    env, course = dict(SERVICES["kafka"]["environment"]), config.kafka_env(config.kafka(1))
    assert course_kafka_env({**env, "KAFKA_NUM_IO_THREADS": 8}) != course
    assert course_kafka_env({**env, "KAFKA_LOG_FLUSH_INTERVAL_MESSAGES": 1}) != course
    text = (ROOT / "brokers" / "rabbitmq" / "compose-single.conf").read_text()
    assert conf_settings(text.replace("= 1000", "= 5000")) != config.rabbitmq(1)


def pom_kafka_version(text: str) -> str:
    """The <kafka.version> property of a Maven manifest."""
    return text.split("<kafka.version>", 1)[1].split("</kafka.version>", 1)[0]


def test_every_backend_runs_the_pinned_kafka_version() -> None:
    """config.KAFKA_VERSION is the one pin: the native launcher resolves it (and passes it to
    Maven), testcontainers runs its image, and the manifest and the Compose file name it too."""
    assert maven.KAFKA.version() == config.KAFKA_VERSION
    assert pom_kafka_version((ROOT / "brokers" / "kafka" / "pom.xml").read_text()) == config.KAFKA_VERSION
    assert containers.KAFKA_IMAGE == config.KAFKA_IMAGE == f"apache/kafka:{config.KAFKA_VERSION}"
    for name, service in SERVICES.items():
        if name.startswith("kafka"):
            assert service["image"] == config.KAFKA_IMAGE, name


def test_maven_is_told_the_pinned_kafka_version(tmp_path, monkeypatch) -> None:
    """The jars come from the pin even if someone edits the manifest's property alone."""
    calls: list[list[str]] = []

    def fake_run(cmd, **_):
        calls.append(cmd)
        out = Path(next(a for a in cmd if a.startswith("-DoutputDirectory=")).split("=", 1)[1])
        out.mkdir(parents=True)
        (out / f"kafka_2.13-{config.KAFKA_VERSION}.jar").write_text("")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(maven.shutil, "which", lambda _: "/usr/bin/mvn")
    monkeypatch.setattr(maven.subprocess, "run", fake_run)
    target = maven.KAFKA.ensure(tmp_path)
    assert f"-Dkafka.version={config.KAFKA_VERSION}" in calls[0]
    assert target.name == f"kafka-{config.KAFKA_VERSION}"


def test_a_changed_kafka_version_is_caught() -> None:
    pom = (ROOT / "brokers" / "kafka" / "pom.xml").read_text()
    assert pom_kafka_version(pom.replace(config.KAFKA_VERSION, "4.1.1")) != config.KAFKA_VERSION

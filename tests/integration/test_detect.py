"""`make lab` first asks which brokers already answer (brokerlab detect): Docker's or anyone's on
the endpoints are used as they are, with neither Java nor rabbitmq-server; tested here with the
suite's native brokers standing in for brokers the course did not start."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from brokerlab.brokers import detect, native
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints, amqp_url

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_course_own_running_brokers_are_native(brokers: Endpoints) -> None:
    if brokers.source != "native":
        pytest.skip(f"the suite's brokers come from {brokers.source!r}, not the native launcher")
    assert detect.detect(brokers) == "native"
    assert detect.environment("native", brokers) == {}


def test_brokers_the_course_did_not_start_are_used_as_they_are(brokers: Endpoints, tmp_path) -> None:
    # A deployment in an empty data dir is not up, so whatever answers is someone else's.
    elsewhere = native.single(data=tmp_path)
    assert detect.detect(dataclasses.replace(brokers, source="default"), elsewhere) == "external"
    assert detect.environment("external", brokers) == {
        "KAFKA_BOOTSTRAP_SERVERS": brokers.kafka_bootstrap_servers, "RABBITMQ_URL": brokers.rabbitmq_url,
        "RABBITMQ_MANAGEMENT_URL": brokers.rabbitmq_management_url}


def test_nothing_answering_means_the_course_starts_its_own(tmp_path) -> None:
    nothing = Endpoints(f"127.0.0.1:{free_port()}", amqp_url("127.0.0.1", free_port()),
                        "http://127.0.0.1:1", "default")
    assert detect.detect(nothing, native.single(data=tmp_path), timeout=3) == "none"


def test_half_a_deployment_is_a_clear_error(brokers: Endpoints, tmp_path) -> None:
    port = free_port()
    half = dataclasses.replace(brokers, rabbitmq_url=amqp_url("127.0.0.1", port), source="default")
    with pytest.raises(BrokerlabError) as error:
        detect.detect(half, native.single(data=tmp_path), timeout=3)
    assert f"Kafka answers at {brokers.kafka_bootstrap_servers}" in error.value.problem
    assert f"RabbitMQ at 127.0.0.1:{port}/%2F does not answer" in error.value.problem
    assert "docker compose up -d --wait" in error.value.fix


def test_brokers_named_by_the_environment_must_answer(tmp_path) -> None:
    silent = Endpoints(f"127.0.0.1:{free_port()}", amqp_url("127.0.0.1", free_port()),
                       "http://127.0.0.1:1", "environment")
    with pytest.raises(BrokerlabError, match="named by the environment") as error:
        detect.detect(silent, native.single(data=tmp_path), timeout=3)
    assert "KAFKA_BOOTSTRAP_SERVERS" in error.value.fix

"""The unit tier is hermetic: the shell's broker settings never change what a unit test sees."""

import pytest

SHELL_SETTINGS = ("BROKERLAB_PORT_OFFSET", "BROKERLAB_BACKEND", "BROKERLAB_NAMESPACE",
                  "BROKERLAB_STRICT", "BROKERLAB_BENCH_MODE", "KAFKA_BOOTSTRAP_SERVERS",
                  "RABBITMQ_URL", "RABBITMQ_MANAGEMENT_URL", "RABBITMQ_MQTT_URL", "RABBITMQ_STOMP_URL")


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch):
    for name in SHELL_SETTINGS:
        monkeypatch.delenv(name, raising=False)

"""Endpoint resolution: environment wins, then the native launcher's state, then defaults."""

import json

import pytest

from brokerlab import settings
from brokerlab.errors import BrokerlabError

ENV = ("KAFKA_BOOTSTRAP_SERVERS", "RABBITMQ_URL", "RABBITMQ_MANAGEMENT_URL", "BROKERLAB_NAMESPACE",
       "RABBITMQ_MQTT_URL", "RABBITMQ_STOMP_URL", "RABBITMQ_STREAM_URL")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path))
    return tmp_path


def test_defaults_when_nothing_is_set(clean_env):
    eps = settings.endpoints()
    assert eps.source == "default"
    assert eps.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert eps.rabbitmq_url == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert eps.rabbitmq_management_url == "http://127.0.0.1:15672"
    assert (eps.rabbitmq_mqtt_url, eps.rabbitmq_stomp_url) == ("mqtt://127.0.0.1:1883",
                                                               "stomp://127.0.0.1:61613")
    assert eps.rabbitmq_stream_url == "rabbitmq-stream://127.0.0.1:5552"
    assert eps.stream_address == ("127.0.0.1", 5552)


def test_native_state_file_is_used(clean_env):
    state = clean_env / "run" / "single"
    state.mkdir(parents=True)
    (state / "endpoints.json").write_text(json.dumps({
        "kafka": "127.0.0.1:9192", "amqp": "amqp://guest:guest@127.0.0.1:5772/%2F",
        "management": "http://127.0.0.1:15772", "stream": "rabbitmq-stream://127.0.0.1:5652"}))
    eps = settings.endpoints()
    assert (eps.source, eps.kafka_bootstrap_servers) == ("native", "127.0.0.1:9192")
    assert eps.rabbitmq_management_url.endswith(":15772")
    assert eps.stream_address == ("127.0.0.1", 5652)


def test_environment_wins_over_state(clean_env, monkeypatch):
    state = clean_env / "run" / "single"
    state.mkdir(parents=True)
    (state / "endpoints.json").write_text(json.dumps({"kafka": "127.0.0.1:9192"}))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9093,kafka2.example:9093")
    monkeypatch.setenv("RABBITMQ_URL", "amqps://u%40x:p@rabbit.example:5671/prod")
    eps = settings.endpoints()
    assert eps.source == "environment"
    assert eps.kafka_bootstrap_servers == "kafka.example:9093,kafka2.example:9093"
    assert eps.management_auth == ("u@x", "p")


def test_stream_url_from_the_environment(clean_env, monkeypatch):
    monkeypatch.setenv("RABBITMQ_STREAM_URL", "rabbitmq-stream://rabbit.example:5551")
    assert settings.endpoints().stream_address == ("rabbit.example", 5551)


@pytest.mark.parametrize("key,value,words", [
    ("KAFKA_BOOTSTRAP_SERVERS", "localhost", "host:port"),
    ("KAFKA_BOOTSTRAP_SERVERS", "localhost:99999", "host:port"),
    ("RABBITMQ_URL", "http://127.0.0.1:5672/", "amqp"),
    ("RABBITMQ_URL", "amqp://127.0.0.1:70000/%2F", "amqp"),
    ("RABBITMQ_URL", "amqp:///%2F", "amqp"),
    ("RABBITMQ_MANAGEMENT_URL", "127.0.0.1:15672", "http"),
    ("RABBITMQ_MQTT_URL", "tcp://127.0.0.1:1883", "mqtt"),
    ("RABBITMQ_STREAM_URL", "amqp://127.0.0.1:5552", "rabbitmq-stream"),
])
def test_malformed_endpoints_get_a_clear_error(clean_env, monkeypatch, key, value, words):
    monkeypatch.setenv(key, value)
    with pytest.raises(BrokerlabError) as info:
        settings.endpoints()
    assert key in info.value.problem and words in str(info.value)
    assert info.value.fix  # always says what to set instead


def test_namespace_prefixes_names(clean_env, monkeypatch):
    assert settings.ns("orders") == "orders"
    monkeypatch.setenv("BROKERLAB_NAMESPACE", "alice-")
    assert settings.ns("orders") == "alice-orders"


@pytest.mark.parametrize("bad", ["has space", "a/b", "x" * 41, "semi;colon"])
def test_invalid_namespace_is_rejected(clean_env, monkeypatch, bad):
    monkeypatch.setenv("BROKERLAB_NAMESPACE", bad)
    with pytest.raises(BrokerlabError, match="BROKERLAB_NAMESPACE"):
        settings.ns("orders")


def test_security_settings_pass_through(clean_env, monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    conf = settings.endpoints().kafka_config(**{"group.id": "g"})
    assert conf == {"bootstrap.servers": "127.0.0.1:9092", "security.protocol": "SASL_SSL",
                    "sasl.mechanism": "PLAIN", "group.id": "g"}


def test_data_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path / "x"))
    assert settings.data_dir() == tmp_path / "x"
    monkeypatch.delenv("BROKERLAB_DATA_DIR")
    assert settings.data_dir().name == ".brokerlab"


def test_wait_for_returns_the_first_answer_or_says_what_to_do_next():
    from brokerlab.waiting import wait_for

    answers = iter([None, ValueError("not yet"), "ready"])

    def check():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_for(check, 5, 0.01, retry_on=(ValueError,)) == "ready"
    assert wait_for(lambda: False, 0.05, 0.01) is None
    with pytest.raises(BrokerlabError, match="still 0") as info:
        wait_for(lambda: 0, 0.05, 0.01, problem=lambda last: f"still {last}", fix="run X")
    assert info.value.fix == "run X"
    with pytest.raises(KeyError):  # only the named exceptions mean "not yet"
        wait_for(lambda: {}["x"], 1, 0.01, retry_on=(ValueError,))

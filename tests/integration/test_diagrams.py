"""The live diagrams name what the brokers really hold (real Kafka and RabbitMQ, no fakes)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pika
import pytest
import requests
from confluent_kafka.admin import AdminClient, NewTopic

import brokerlab
from brokerlab.observe import diagrams, topics

pytestmark = pytest.mark.integration

VALID_ID = re.compile(r"^[A-Za-z0-9_]+$")


@pytest.fixture(scope="module")
def ep(brokers: brokerlab.Endpoints) -> brokerlab.Endpoints:
    """The live brokers chosen by tests/conftest.py (environment, native or containers)."""
    return brokers


@pytest.fixture(scope="module")
def admin(ep: brokerlab.Endpoints) -> AdminClient:
    return AdminClient(ep.kafka_config(**{"socket.timeout.ms": 5000}))


@pytest.fixture
def suffix() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def topic(admin: AdminClient, suffix: str) -> Iterator[str]:
    name = brokerlab.ns(f"test-diagrams-{suffix}")
    admin.create_topics([NewTopic(name, num_partitions=3)], operation_timeout=10)[name].result(timeout=20)
    try:
        # The creation is acknowledged once the controller committed it; the broker that answers a
        # metadata request may list the topic a moment later (a fresh-clone run read it too early).
        topics.wait_until_led(admin, name, 3)
        yield name
    finally:
        admin.delete_topics([name], operation_timeout=10)[name].result(timeout=20)


@pytest.fixture
def channel(ep: brokerlab.Endpoints) -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    params = pika.URLParameters(ep.rabbitmq_url)
    params.socket_timeout = 5
    params.connection_attempts = 1
    with pika.BlockingConnection(params) as connection:
        yield connection.channel()


def test_kafka_topic_diagram_names_every_partition_and_the_real_leader(admin: AdminClient,
                                                                       topic: str) -> None:
    metadata = admin.list_topics(timeout=10).topics[topic]  # all topics: never auto-creates
    assert sorted(metadata.partitions) == [0, 1, 2]

    source = diagrams.kafka_topic(admin, topic)

    assert f"topic {topic}" in source
    assert "3 partition(s)" in source
    for pid, partition in metadata.partitions.items():
        line = next(x for x in source.splitlines() if f'"partition {pid}<br>' in x)
        assert f"leader {partition.leader}" in line
        assert f"broker {partition.leader}" in source
    brokers = admin.list_topics(timeout=10).brokers
    assert all(f"{b.host}:{b.port}" in source for b in brokers.values())
    assert source.count("-->|\"leader\"|") == 3


def test_kafka_topic_diagram_of_a_missing_topic_is_a_clear_error(admin: AdminClient, suffix: str) -> None:
    with pytest.raises(brokerlab.BrokerlabError, match="does not exist"):
        diagrams.kafka_topic(admin, brokerlab.ns(f"test-diagrams-missing-{suffix}"))
    assert brokerlab.ns(f"test-diagrams-missing-{suffix}") not in admin.list_topics(timeout=10).topics


def test_rabbitmq_bindings_diagram_shows_exchange_key_and_queue(ep: brokerlab.Endpoints, channel,
                                                                suffix: str) -> None:
    prefix = brokerlab.ns(f"test-diagrams-{suffix}.")
    other = brokerlab.ns(f"test-diagrams-other-{suffix}.")
    exchange, queue, key = f"{prefix}orders", f"{prefix}orders.eu/paid", "orders.eu.paid"
    unrelated_ex, unrelated_q = f"{other}audit", f"{other}audit-log"
    try:
        channel.exchange_declare(exchange, exchange_type="topic", auto_delete=False)
        channel.queue_declare(queue)
        channel.queue_bind(queue, exchange, routing_key=key)
        channel.exchange_declare(unrelated_ex, exchange_type="fanout")
        channel.queue_declare(unrelated_q)
        channel.queue_bind(unrelated_q, unrelated_ex)

        source = diagrams.rabbitmq_bindings(ep.rabbitmq_management_url, ep.management_auth, prefix=prefix)

        assert f'"{exchange}<br>exchange, topic"' in source
        assert f'"{queue}<br>queue, classic' in source
        ex_id, q_id = diagrams.node_id("exchange", exchange), diagrams.node_id("queue", queue)
        assert VALID_ID.match(ex_id) and VALID_ID.match(q_id)
        assert f'{ex_id} -->|"{key}"| {q_id}' in source
        assert other not in source
        assert "amq.topic" not in source and "(default exchange)" not in source

        everything = diagrams.rabbitmq_bindings(ep.rabbitmq_management_url, ep.management_auth,
                                                include_builtin=True)
        assert "(default exchange)" in everything and unrelated_q in everything
    finally:
        for q in (queue, unrelated_q):
            channel.queue_delete(q)
        for x in (exchange, unrelated_ex):
            channel.exchange_delete(x)
    after = diagrams.rabbitmq_bindings(ep.rabbitmq_management_url, ep.management_auth, prefix=prefix)
    assert exchange not in after and queue not in after


def test_running_brokers_shows_the_real_ports_and_rabbitmq_version(ep: brokerlab.Endpoints,
                                                                   admin: AdminClient) -> None:
    cluster = admin.describe_cluster(request_timeout=5).result(timeout=10)
    overview = requests.get(f"{ep.rabbitmq_management_url}/api/overview", auth=ep.management_auth,
                            timeout=3).json()
    nodes = requests.get(f"{ep.rabbitmq_management_url}/api/nodes", auth=ep.management_auth,
                         timeout=3).json()

    source = diagrams.running_brokers(ep)

    assert f"Kafka cluster {cluster.cluster_id}" in source
    for broker in cluster.nodes:
        assert f"broker {broker.id}<br>{broker.host}:{broker.port}" in source
    assert "controller" in source
    assert f"RabbitMQ {overview['rabbitmq_version']}" in source
    for node in nodes:
        assert node["name"] in source
    amqp_port = pika.URLParameters(ep.rabbitmq_url).port
    assert f"amqp :{amqp_port}" in source
    assert f"bootstrap {ep.kafka_bootstrap_servers}" in source


def test_unreachable_brokers_fail_fast_with_the_command_to_run() -> None:
    nowhere = brokerlab.Endpoints("127.0.0.1:9", "amqp://guest:guest@127.0.0.1:9/%2F", "http://127.0.0.1:9",
                                  "test")
    with pytest.raises(brokerlab.BrokerlabError, match="brokerlab up"):
        diagrams.running_brokers(nowhere, timeout=2)
    with pytest.raises(brokerlab.BrokerlabError, match="brokerlab status"):
        diagrams.rabbitmq_bindings("http://127.0.0.1:9", ("guest", "guest"), timeout=2)


def test_kafka_errors_are_reported_not_drawn(admin: AdminClient) -> None:
    """An invalid topic name is the broker's refusal, reported — not an empty diagram."""
    with pytest.raises(brokerlab.BrokerlabError, match="refused"):
        diagrams.kafka_topic(admin, "bad name with spaces")

"""The 3+3 clusters of the failure labs: node handles and leader lookups on real failovers."""

import time
import uuid

import pika
import pytest
import requests
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.brokers.cluster import AUTH
from brokerlab.observe import diagrams
from brokerlab.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


def produce_acked(bootstrap: str, topic: str, n: int) -> int:
    acked = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "message.timeout.ms": 20000,
                         "log_level": 0})
    for i in range(n):
        producer.produce(topic, value=str(i).encode(),
                         on_delivery=lambda err, _m: acked.append(err is None))
    producer.flush(30)
    return sum(acked)


def test_status_lists_three_nodes_each(lab):
    status = lab.deployment.status()
    assert status.kafka.up and status.rabbitmq.up and status.healthy
    assert [n.port for n in status.kafka.nodes] == [19092, 19102, 19112]
    assert [n.port for n in status.rabbitmq.nodes] == [5673, 5674, 5675]
    nodes = requests.get(f"{lab.management_url()}/api/nodes", auth=AUTH, timeout=5).json()
    assert sum(n["running"] for n in nodes) == 3


def test_kafka_leader_killed_then_back(lab):
    topic = f"cluster-failover-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": lab.bootstrap_servers, "log_level": 0})
    admin.create_topics([NewTopic(topic, num_partitions=1)])[topic].result(timeout=20)
    try:
        meta = lab.wait_for_partition(topic)  # metadata reaches every broker a moment after creation
        assert len(meta.replicas) == 3  # default RF 3
        leader = lab.kafka_leader(topic)
        leader.kill()
        try:
            assert not leader.is_alive()
            assert lab.wait_for_kafka_leader(topic, not_on=leader).node_id != leader.node_id
            drawn = diagrams.kafka_topic(admin, topic)  # the dead replica is drawn, without an address
            assert f"broker {leader.node_id}" in drawn and "None:" not in drawn
            # Two in-sync replicas remain = min ISR 2: acks=all writes still succeed.
            assert produce_acked(lab.bootstrap_servers, topic, 20) == 20
        finally:
            leader.start()
        assert leader.is_alive() and leader.is_listening()

        def isr_full() -> bool:
            try:
                return len(admin.list_topics(topic, timeout=5).topics[topic].partitions[0].isrs) == 3
            except KafkaException:  # the metadata request timed out while the node rejoins
                return False
        assert wait_for(isr_full, 60, 1)
    finally:
        admin.delete_topics([topic])[topic].result(timeout=20)


def test_quorum_queue_fails_over_and_node_rejoins(lab):
    queue = f"cluster-qq-{uuid.uuid4().hex[:8]}"
    params = [pika.URLParameters(url) for url in lab.amqp_urls]
    with pika.BlockingConnection(params) as conn:
        channel = conn.channel()
        channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.confirm_delivery()
        for i in range(10):
            channel.basic_publish("", queue, str(i).encode(),
                                  pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent))
    leader = lab.quorum_leader(queue)
    leader.kill()
    try:
        assert lab.wait_for_quorum_leader(queue, not_on=leader) is not leader
        survivors = [pika.URLParameters(u) for u, n in zip(lab.amqp_urls, lab.rabbit_nodes, strict=True)
                     if n is not leader]
        with pika.BlockingConnection(survivors) as conn:
            channel = conn.channel()
            got = []
            deadline = time.monotonic() + 30
            while len(got) < 10 and time.monotonic() < deadline:
                method, _p, body = channel.basic_get(queue, auto_ack=True)
                if method:
                    got.append(int(body))
            assert got == list(range(10))  # every confirmed message survived, in order
    finally:
        leader.start()

    def three_running() -> bool:
        nodes = requests.get(f"{lab.management_url()}/api/nodes", auth=AUTH, timeout=5).json()
        return sum(n["running"] for n in nodes) == 3
    assert wait_for(three_running, 60, 1)
    with pika.BlockingConnection(params) as conn:
        conn.channel().queue_delete(queue)


def test_pause_and_resume(lab):
    node = lab.kafka_nodes[2]
    node.pause()
    try:
        assert not node.is_alive()
        assert node in lab.unhealthy()
    finally:
        node.resume()
    assert node.is_alive() and not lab.unhealthy()

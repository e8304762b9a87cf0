"""`brokerlab reset` deletes exactly the namespace's objects; live metrics match what we did."""

import os
import subprocess
import sys
import time
import uuid

import pika
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.observe import metrics

pytestmark = pytest.mark.integration


def make_objects(brokers, prefix: str) -> None:
    admin = AdminClient(brokers.kafka_config())
    topic = f"{prefix}topic"
    admin.create_topics([NewTopic(topic, num_partitions=2)])[topic].result(timeout=15)
    producer = Producer(brokers.kafka_config())
    producer.produce(topic, b"x", partition=0)
    producer.flush(10)
    consumer = Consumer(brokers.kafka_config(**{"group.id": f"{prefix}group", "enable.auto.commit": False}))
    consumer.commit(offsets=[TopicPartition(topic, 0, 1)], asynchronous=False)
    consumer.close()
    with pika.BlockingConnection(pika.URLParameters(brokers.rabbitmq_url)) as conn:
        channel = conn.channel()
        channel.exchange_declare(f"{prefix}exchange", "topic")
        channel.queue_declare(f"{prefix}queue")


def reset(prefix: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BROKERLAB_NAMESPACE": prefix}
    return subprocess.run([sys.executable, "-m", "brokerlab.cli", "reset", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_reset_is_a_dry_run_by_default_and_spares_other_namespaces(brokers):
    mine, theirs = f"t{uuid.uuid4().hex[:6]}-", f"t{uuid.uuid4().hex[:6]}-"
    make_objects(brokers, mine)
    make_objects(brokers, theirs)
    try:
        dry = reset(mine)
        assert dry.returncode == 0, dry.stderr
        assert f"{mine}topic" in dry.stdout and "Would delete" in dry.stdout
        assert f"{mine}topic" in AdminClient(brokers.kafka_config()).list_topics(timeout=10).topics

        real = reset(mine, "--yes")
        assert real.returncode == 0, real.stderr
        for name in ("topic", "group", "queue", "exchange"):
            assert f"{mine}{name}" in real.stdout
        assert theirs not in real.stdout
        topics = AdminClient(brokers.kafka_config()).list_topics(timeout=10).topics
        assert f"{mine}topic" not in topics and f"{theirs}topic" in topics
    finally:
        reset(theirs, "--yes")
        reset(mine, "--yes")


def test_group_lag_and_queue_counts_match_what_we_did(brokers):
    prefix = f"m{uuid.uuid4().hex[:6]}-"
    make_objects(brokers, prefix)
    try:
        producer = Producer(brokers.kafka_config())
        for _ in range(4):
            producer.produce(f"{prefix}topic", b"y", partition=1)
        producer.flush(10)
        rows = {r.partition: r for r in metrics.kafka_group_lag(brokers, f"{prefix}group", f"{prefix}topic")}
        assert (rows[0].committed, rows[0].high, rows[0].lag) == (1, 1, 0)
        assert (rows[1].committed, rows[1].high, rows[1].lag) == (None, 4, 4)

        with pika.BlockingConnection(pika.URLParameters(brokers.rabbitmq_url)) as conn:
            channel = conn.channel()
            channel.confirm_delivery()
            for _ in range(3):
                channel.basic_publish("", f"{prefix}queue", b"z")
        deadline = time.monotonic() + 15
        while metrics.rabbit_queue(brokers, f"{prefix}queue").get("messages_ready") != 3:
            assert time.monotonic() < deadline, "management stats never showed 3 ready messages"
            time.sleep(0.5)
        assert any(node["running"] for node in metrics.rabbit_nodes(brokers))
    finally:
        reset(prefix, "--yes")

"""Readiness proof: a real produce → consume round trip on each broker, with a deadline."""

from __future__ import annotations

import time
import uuid

import pika
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.errors import BrokerlabError
from brokerlab.settings import amqp_parameters, ns

HEALTH_TOPIC = "brokerlab-healthcheck"


def kafka_roundtrip(bootstrap: str, timeout: float = 30.0, extra: dict | None = None) -> float:
    """Produce one record and read it back; returns the seconds the round trip took."""
    deadline = time.monotonic() + timeout
    # log_level 0: retries while a broker boots are expected, not worth librdkafka's stderr noise.
    base = {"bootstrap.servers": bootstrap, "log_level": 0, **(extra or {})}
    topic = ns(HEALTH_TOPIC)
    last_error: object = None
    while time.monotonic() < deadline:
        try:
            return _kafka_once(base, topic, deadline)
        except (KafkaException, BrokerlabError, RuntimeError) as exc:
            last_error = exc
            time.sleep(0.3)
    raise BrokerlabError(
        f"Kafka at {bootstrap} did not complete a produce/consume round trip in {timeout:.0f} s "
        f"(last error: {last_error}).",
        "Check it is up: brokerlab status   — start it with: brokerlab up",
    )


def _kafka_once(base: dict, topic: str, deadline: float) -> float:
    admin = AdminClient({**base, "socket.timeout.ms": 5000})
    if topic not in admin.list_topics(timeout=5).topics:
        futures = admin.create_topics([NewTopic(topic, num_partitions=1)], operation_timeout=5)
        try:
            futures[topic].result(timeout=10)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    token = uuid.uuid4().hex.encode()
    start = time.perf_counter()
    producer = Producer({**base, "acks": "all", "message.timeout.ms": 10000})
    delivered: list = []
    producer.produce(topic, value=token, on_delivery=lambda err, msg: delivered.append((err, msg)))
    producer.flush(max(0.1, deadline - time.monotonic()))
    if not delivered or delivered[0][0] is not None:
        raise RuntimeError(f"delivery failed: {delivered[0][0] if delivered else 'timed out'}")
    record = delivered[0][1]
    consumer = Consumer({**base, "group.id": f"{topic}-reader", "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, record.partition(), record.offset())])
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None and msg.value() == token:
                return time.perf_counter() - start
    finally:
        consumer.close()
    raise RuntimeError("the produced record was not read back")


def rabbitmq_roundtrip(url: str, timeout: float = 30.0) -> float:
    """Publish one message to a private queue and get it back; returns seconds taken."""
    deadline = time.monotonic() + timeout
    last_error: object = None
    while time.monotonic() < deadline:
        try:
            return _rabbit_once(url, deadline)
        except (pika.exceptions.AMQPError, OSError, RuntimeError) as exc:
            last_error = exc
            time.sleep(0.3)
    raise BrokerlabError(
        f"RabbitMQ at {url.split('@')[-1]} did not complete a publish/get round trip in "
        f"{timeout:.0f} s (last error: {last_error!r}).",
        "Check it is up: brokerlab status   — start it with: brokerlab up",
    )


def _rabbit_once(url: str, deadline: float) -> float:
    params = amqp_parameters(url)
    token = uuid.uuid4().hex.encode()
    start = time.perf_counter()
    with pika.BlockingConnection(params) as connection:
        channel = connection.channel()
        queue = channel.queue_declare(queue="", exclusive=True).method.queue
        channel.confirm_delivery()
        channel.basic_publish(exchange="", routing_key=queue, body=token)
        while time.monotonic() < deadline:
            method, _props, body = channel.basic_get(queue, auto_ack=True)
            if method is not None and body == token:
                return time.perf_counter() - start
            connection.sleep(0.05)
    raise RuntimeError("the published message was not read back")

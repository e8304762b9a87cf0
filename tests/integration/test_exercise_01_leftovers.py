"""Notebook 01's checker on the live brokers: it rejects plausible wrong answers with the right
hint and accepts the reference solution."""

from __future__ import annotations

from urllib.parse import quote

import pika
import pytest
import requests
from confluent_kafka import Consumer, TopicPartition

import brokerlab
from brokerlab.course import checks
from brokerlab.exercises.lesson_01_leftovers import check_leftovers

pytestmark = pytest.mark.integration


def _kafka_partitions(consumer: Consumer, topic: str) -> list[TopicPartition]:
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    return [TopicPartition(topic, p) for p in sorted(partitions)]


def _management_messages(queue: str) -> int:
    ep = brokerlab.endpoints()
    url = f"{ep.rabbitmq_management_url}/api/queues/%2F/{quote(queue, safe='')}"
    return requests.get(url, auth=ep.management_auth, timeout=5).json()["messages"]


def _amqp() -> pika.URLParameters:
    params = pika.URLParameters(brokerlab.endpoints().rabbitmq_url)
    params.socket_timeout = 5
    return params


def kafka_counts_what_is_unread(topic: str, queue: str) -> tuple[int, int]:
    """Wrong: thinks a log forgets what was consumed, so counts high − committed (like a queue)."""
    group = brokerlab.ns(f"ex01-leftovers-group-{topic.rsplit('-', 1)[-1]}")  # the checker's group
    consumer = Consumer(brokerlab.endpoints().kafka_config(**{"group.id": group,
                                                              "enable.auto.commit": False}))
    try:
        unread = 0
        for tp in consumer.committed(_kafka_partitions(consumer, topic), timeout=10):
            low, high = consumer.get_watermark_offsets(tp, timeout=10)
            unread += high - max(tp.offset, low)
    finally:
        consumer.close()
    return unread, _management_messages(queue)


def kafka_sums_high_watermarks(topic: str, queue: str) -> tuple[int, int]:
    """Wrong: the high watermark is 'how many records', forgetting records deleted below the low one."""
    consumer = Consumer(brokerlab.endpoints().kafka_config(**{"group.id": "test-leftovers"}))
    try:
        stored = sum(consumer.get_watermark_offsets(tp, timeout=10)[1]
                     for tp in _kafka_partitions(consumer, topic))
    finally:
        consumer.close()
    return stored, _management_messages(queue)


def rabbitmq_counts_only_ready(topic: str, queue: str) -> tuple[int, int]:
    """Wrong: a passive queue_declare counts ready messages only, not the delivered-unacked ones."""
    kafka, _ = checks.load_solution("lesson_01_leftovers").leftovers(topic, queue)
    with pika.BlockingConnection(_amqp()) as connection:
        ready = connection.channel().queue_declare(queue, passive=True).method.message_count
    return kafka, ready


def rabbitmq_counts_by_consuming(topic: str, queue: str) -> tuple[int, int]:
    """Wrong: counts by basic_get with auto_ack, which removes what it counts."""
    kafka, unacked_and_ready = checks.load_solution("lesson_01_leftovers").leftovers(topic, queue)
    with pika.BlockingConnection(_amqp()) as connection:
        channel = connection.channel()
        while channel.basic_get(queue, auto_ack=True)[0] is not None:
            pass
    return kafka, unacked_and_ready


def test_reference_solution_passes(brokers: brokerlab.Endpoints) -> None:
    result = check_leftovers(checks.load_solution("lesson_01_leftovers").leftovers, brokers)
    assert result.passed, str(result)
    assert len(result.feedback) == 5


def test_not_attempted_is_feedback_not_an_error(brokers: brokerlab.Endpoints) -> None:
    def leftovers(topic: str, queue: str) -> tuple[int, int]:
        raise NotImplementedError

    result = check_leftovers(leftovers, brokers)
    assert not result.passed
    assert "Not attempted yet" in str(result)


def test_rejects_counting_what_the_group_has_not_read(brokers: brokerlab.Endpoints) -> None:
    result = check_leftovers(kafka_counts_what_is_unread, brokers)
    assert not result.passed
    text = str(result)
    assert "consuming does not remove records from a log" in text
    assert "✔ RabbitMQ" in text  # only the Kafka half is wrong, and the hint says so


def test_rejects_the_high_watermark_as_a_count(brokers: brokerlab.Endpoints) -> None:
    result = check_leftovers(kafka_sums_high_watermarks, brokers)
    assert not result.passed
    assert "every record ever produced" in str(result) and "low watermark" in str(result)


def test_rejects_counting_only_ready_messages(brokers: brokerlab.Endpoints) -> None:
    result = check_leftovers(rabbitmq_counts_only_ready, brokers)
    assert not result.passed
    text = str(result)
    assert "only the *ready* messages" in text and "removes a message on ack" in text
    assert "✔ Kafka" in text


def test_rejects_counting_by_consuming(brokers: brokerlab.Endpoints) -> None:
    result = check_leftovers(rabbitmq_counts_by_consuming, brokers)
    assert not result.passed
    assert "in a queue, reading is removing" in str(result)


def test_rejects_a_wrong_shape(brokers: brokerlab.Endpoints) -> None:
    result = check_leftovers(lambda topic, queue: {"kafka": 1, "rabbitmq": 1}, brokers)
    assert not result.passed
    assert "Return a tuple of two ints" in str(result)

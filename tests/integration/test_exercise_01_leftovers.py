"""Notebook 01's checker on the live brokers: it rejects plausible wrong answers with the right
hint and accepts the reference solution."""

from __future__ import annotations

import random
import re
from urllib.parse import quote

import pika
import pytest
import requests
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

import brokerlab
from brokerlab.course import checks
from brokerlab.exercises.lesson_01_leftovers import _Situation, check_leftovers

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


SEED_A, SEED_B = 21, 22


def answer(brokers: brokerlab.Endpoints, seed: int) -> tuple[int, int]:
    """The right answer of the situation a seed draws (nothing is built on the brokers)."""
    s = _Situation(brokers, random.Random(seed))
    return s.kafka_stored, s.rabbitmq_stored


def admin_and_split_counters(topic: str, queue: str) -> tuple[int, int]:
    """Right, another way: AdminClient.list_offsets, and ready + unacknowledged added up."""
    ep = brokerlab.endpoints()
    admin = AdminClient(ep.kafka_config())
    partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
    ends = {}
    for spec in ("earliest", "latest"):
        replies = admin.list_offsets({TopicPartition(topic, p): getattr(OffsetSpec, spec)()
                                      for p in partitions}, request_timeout=10)
        ends[spec] = sum(f.result(timeout=15).offset for f in replies.values())
    url = f"{ep.rabbitmq_management_url}/api/queues/%2F/{quote(queue, safe='')}"
    q = requests.get(url, auth=ep.management_auth, timeout=5).json()
    return ends["latest"] - ends["earliest"], q["messages_ready"] + q["messages_unacknowledged"]


def test_accepts_every_correct_variant(brokers: brokerlab.Endpoints) -> None:
    reference = checks.load_solution("lesson_01_leftovers").leftovers
    for fn in (reference, admin_and_split_counters, lambda t, q: list(reference(t, q))):
        result = check_leftovers(fn, brokers)
        assert result.passed, result


def test_rejects_the_answer_of_another_scenario(brokers: brokerlab.Endpoints) -> None:
    assert answer(brokers, SEED_A) != answer(brokers, SEED_B)
    result = check_leftovers(lambda t, q: answer(brokers, SEED_A), brokers, seed=SEED_B)
    assert not result.passed


def test_rejects_the_literal_answer_a_failing_attempt_printed(brokers, capsys) -> None:
    failing = check_leftovers(rabbitmq_counts_only_ready, brokers, seed=SEED_A)
    printed = capsys.readouterr().out + str(failing)
    assert not failing.passed
    right_rabbit = answer(brokers, SEED_A)[1]
    hints = [line for line in failing.feedback if line.startswith("✘")]
    assert hints and not any(re.search(rf"\b{right_rabbit}\b", h) for h in hints), hints
    [literal] = {tuple(map(int, m)) for m in re.findall(r"returned \((\d+), (\d+)\)", printed)}
    for seed in (SEED_A, SEED_B):
        assert not check_leftovers(lambda t, q: literal, brokers, seed=seed).passed


def test_rejects_an_answer_built_without_asking_the_brokers(brokers: brokerlab.Endpoints) -> None:
    assert answer(brokers, SEED_A) != (20, 8)
    assert not check_leftovers(lambda t, q: (20, 8), brokers, seed=SEED_A).passed


def test_a_function_that_raises_gets_its_last_line_not_a_pass(brokers: brokerlab.Endpoints) -> None:
    def leftovers(topic: str, queue: str) -> tuple[int, int]:
        raise KeyError("messages")

    result = check_leftovers(leftovers, brokers)
    assert not result.passed and "raised KeyError: 'messages'" in str(result)


def test_two_attempts_get_two_situations(brokers, capsys) -> None:
    seeds = []
    for _ in range(2):
        check_leftovers(lambda t, q: (0, 0), brokers)
        seeds += re.findall(r"scenario seed (\d+)", capsys.readouterr().out)
    assert len(seeds) == 2 and seeds[0] != seeds[1]

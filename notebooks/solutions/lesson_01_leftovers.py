"""Reference solution — notebook 01, exercise "leftovers": after everyone has consumed, what is
still stored where?

Kafka: each partition keeps its records between the low watermark (the first offset still stored)
and the high watermark (the offset the next record will get), whoever has read them.
RabbitMQ: a queue holds the messages not yet acknowledged — the ready ones and those delivered but
not acked. Nothing here consumes: both questions only ask the brokers.
"""

from urllib.parse import quote

import requests
from confluent_kafka import Consumer, TopicPartition

import brokerlab


def leftovers(topic: str, queue: str) -> tuple[int, int]:
    """Return (records stored in Kafka `topic`, messages stored in RabbitMQ `queue`) right now."""
    ep = brokerlab.endpoints()

    # Kafka: a Consumer needs a group id, but this one never subscribes or commits.
    consumer = Consumer(ep.kafka_config(**{"group.id": brokerlab.ns("leftovers-counter"),
                                           "enable.auto.commit": False}))
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        kafka_stored = 0
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            kafka_stored += high - low
    finally:
        consumer.close()

    # RabbitMQ: the management API counts ready + unacknowledged ("messages"). A passive
    # queue_declare would count only the ready ones.
    url = f"{ep.rabbitmq_management_url}/api/queues/%2F/{quote(queue, safe='')}"
    reply = requests.get(url, auth=ep.management_auth, timeout=5)
    reply.raise_for_status()
    rabbitmq_stored = reply.json()["messages"]
    return kafka_stored, rabbitmq_stored

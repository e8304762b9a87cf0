"""Waiting for a Kafka topic that was just created: until every partition has a leader.

``create_topics(...).result()`` returns when the controller has recorded the topic. Each broker
then applies it to its own copy of the metadata, moments apart, and any broker may answer the
next request: a describe, a watermark query or a partition lookup made at once can still get
UNKNOWN_TOPIC_OR_PART or NOT_LEADER_FOR_PARTITION.
"""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, TopicMetadata

from brokerlab.waiting import wait_for

STREAK = 3  # consecutive good answers: the brokers agree, not just the first one asked


def wait_until_led(admin: AdminClient, topic: str, partitions: int | None = None,
                   timeout: float = 15.0) -> TopicMetadata:
    """The topic's metadata once it lists ``partitions`` partitions (any number if None), each with
    a leader, in :data:`STREAK` reads in a row, 0.2 s apart."""
    streak, last = 0, "no answer"

    def led() -> TopicMetadata | None:
        nonlocal streak, last
        try:
            info = admin.list_topics(topic, timeout=5).topics.get(topic)
        except KafkaException as exc:
            info, last = None, str(exc)
        good = (info is not None and info.error is None and bool(info.partitions)
                and (partitions is None or len(info.partitions) == partitions)
                and all(p.leader >= 0 for p in info.partitions.values()))
        if info is not None and not good:
            last = str(info.error) if info.error else f"{len(info.partitions)} partition(s), leaders " \
                f"{sorted(p.leader for p in info.partitions.values())}"
        streak = streak + 1 if good else 0
        return info if streak == STREAK else None

    return wait_for(led, timeout, 0.2,
                    problem=lambda _: f"Topic {topic!r} did not get a leader for every partition "
                                      f"within {timeout:.0f} s (last answer: {last}).",
                    fix="Check the brokers: brokerlab status (or brokerlab cluster status).")

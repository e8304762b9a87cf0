"""Waiting for a Kafka topic that was just created: until every partition has a leader.

``create_topics(...).result()`` returns when the controller has recorded the topic. Each broker
then applies it to its own copy of the metadata, moments apart, and any broker may answer the
next request: a describe, a watermark query or a partition lookup made at once can still get
UNKNOWN_TOPIC_OR_PART or NOT_LEADER_FOR_PARTITION.
"""

from __future__ import annotations

import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, TopicMetadata

from brokerlab.errors import BrokerlabError

STREAK = 3  # consecutive good answers: the brokers agree, not just the first one asked


def wait_until_led(admin: AdminClient, topic: str, partitions: int | None = None,
                   timeout: float = 15.0) -> TopicMetadata:
    """The topic's metadata once it lists ``partitions`` partitions (any number if None), each with
    a leader, in :data:`STREAK` reads in a row, 0.2 s apart."""
    deadline, streak, last = time.monotonic() + timeout, 0, "no answer"
    while time.monotonic() < deadline:
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
        if streak == STREAK:
            return info
        time.sleep(0.2)
    raise BrokerlabError(f"Topic {topic!r} did not get a leader for every partition within {timeout:.0f} s "
                         f"(last answer: {last}).",
                         "Check the brokers: brokerlab status (or brokerlab cluster status).")

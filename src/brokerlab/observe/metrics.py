"""The brokers' own numbers, read live: Kafka consumer lag, RabbitMQ queue and node statistics."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from brokerlab.brokers.management import Management
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints

HTTP_TIMEOUT = 5


@dataclass(frozen=True)
class PartitionLag:
    """Where one partition stands for one consumer group."""

    partition: int
    committed: int | None  # None: the group has not committed on this partition yet
    low: int
    high: int

    @property
    def lag(self) -> int:
        """Records the group has not committed yet (from the low watermark when it never did)."""
        start = self.committed if self.committed is not None and self.committed >= 0 else self.low
        return max(0, self.high - start)


def kafka_group_lag(ep: Endpoints, group: str, topic: str, timeout: float = 10.0) -> list[PartitionLag]:
    """Per-partition committed offset, watermarks and lag of ``group`` on ``topic``."""
    admin = AdminClient(ep.kafka_config())
    meta = admin.list_topics(topic, timeout=timeout).topics.get(topic)
    if meta is None or meta.error is not None:
        raise BrokerlabError(f"Topic {topic!r} not found ({meta.error if meta else 'no metadata'}).")
    partitions = [TopicPartition(topic, p) for p in sorted(meta.partitions)]
    request = [ConsumerGroupTopicPartitions(group, partitions)]
    committed = admin.list_consumer_group_offsets(request)[group].result(timeout=timeout)
    by_partition = {tp.partition: tp.offset for tp in committed.topic_partitions}
    reader = Consumer(ep.kafka_config(**{"group.id": f"{group}-lag-reader", "enable.auto.commit": False}))
    try:
        rows = []
        for tp in partitions:
            low, high = reader.get_watermark_offsets(tp, timeout=timeout)
            offset = by_partition.get(tp.partition)
            rows.append(PartitionLag(tp.partition, offset if offset is not None and offset >= 0 else None,
                                     low, high))
        return rows
    finally:
        reader.close()


def _get(ep: Endpoints, path: str) -> dict | list:
    return Management.of(ep, timeout=HTTP_TIMEOUT).get(f"/api/{path}")


def rabbit_queue(ep: Endpoints, queue: str, vhost: str = "/") -> dict:
    """The management API's record of one queue (messages_ready, messages_unacknowledged, memory…)."""
    data = _get(ep, f"queues/{quote(vhost, safe='')}/{quote(queue, safe='')}")
    assert isinstance(data, dict)
    return data


def rabbit_nodes(ep: Endpoints) -> list[dict]:
    """Every node's record: running, mem_used, mem_limit, mem_alarm, disk_free…"""
    data = _get(ep, "nodes")
    assert isinstance(data, list)
    return data

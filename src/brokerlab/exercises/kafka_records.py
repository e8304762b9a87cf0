"""Checkers' scenario data: write known records to a fresh topic, or fail with a clear error."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

from confluent_kafka import KafkaError, Producer

from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints


class Record(NamedTuple):
    partition: int
    value: bytes
    timestamp_ms: int | None = None  # None: the producer's clock


def write(ep: Endpoints, topic: str, records: Iterable[Record], fix: str, timeout: float = 20.0) -> None:
    """Produce every record with acks=all and wait until each is acknowledged; raise a
    :class:`BrokerlabError` (with ``fix``) when any fails or ``timeout`` seconds pass."""
    producer = Producer(ep.kafka_config(**{"acks": "all", "linger.ms": 5, "message.timeout.ms": 15000}))
    failures: list[KafkaError] = []
    deadline = time.monotonic() + timeout
    for record in records:
        extra = {} if record.timestamp_ms is None else {"timestamp": record.timestamp_ms}
        while True:
            try:
                producer.produce(topic, value=record.value, partition=record.partition, **extra,
                                 on_delivery=lambda err, _m: err and failures.append(err))
                break
            except BufferError:  # the local queue is full, or the topic's metadata is on its way
                if time.monotonic() > deadline:
                    raise BrokerlabError(f"The checker could not write its records to {topic!r} "
                                         f"within {timeout:.0f} s (the producer's queue stayed full).",
                                         fix) from None
                producer.poll(0.2)
    producer.flush(max(0.0, deadline - time.monotonic()))
    if len(producer) or failures:
        raise BrokerlabError(f"The checker could not write its records to {topic!r} "
                             f"({failures[0] if failures else 'timed out'}).", fix)

# Reference solution — exercise "replay_from" (notebook 05).
import time

from confluent_kafka import Consumer, TopicPartition


def replay_from(config: dict, topic: str, partition: int, offset: int, n: int) -> list[bytes]:
    """Return the values of the `n` records of `topic`/`partition` starting AT `offset`."""
    consumer = Consumer({**config, "enable.auto.commit": False})  # replaying: commit nothing
    try:
        # assign(), not subscribe(): no group join, no auto.offset.reset — we say where to start.
        consumer.assign([TopicPartition(topic, partition, offset)])
        values: list[bytes] = []
        deadline = time.monotonic() + 10
        while len(values) < n and time.monotonic() < deadline:
            msg = consumer.poll(0.5)  # None while the first fetch is on its way
            if msg is None or msg.error() is not None:
                continue
            values.append(msg.value())
        return values
    finally:
        consumer.close()

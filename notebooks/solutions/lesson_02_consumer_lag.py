"""Reference solution for notebook 02's exercise: per-partition consumer lag of a group."""

from confluent_kafka import Consumer, TopicPartition


def partition_lag(config: dict, group: str, topic: str) -> dict[int, int]:
    """Lag of consumer group `group` on every partition of `topic`: {partition: lag}.

    lag = high watermark - committed offset; where the group never committed, the group still has
    to read everything left in the partition, so lag = high watermark - low watermark.
    """
    # A consumer with the group's id can READ the group's commits without joining the group:
    # no subscribe(), no poll(), and no auto-commit, so the measurement moves nothing.
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = sorted(metadata.topics[topic].partitions)
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        lags = {}
        for tp in committed:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=10)
            start = tp.offset if tp.offset >= 0 else low  # negative = OFFSET_INVALID: never committed
            lags[tp.partition] = max(0, high - start)
        return lags
    finally:
        consumer.close()

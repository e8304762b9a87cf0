"""Reference solution — lab 02, exercise "rewind a group to a time".

offsets_for_times() answers, per partition, the first offset whose timestamp is at or after the
time asked (in MILLISECONDS), or -1 when no record is that late. The group's committed offsets are
then changed with the Admin API, which the broker accepts only while the group has no active member.
"""

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient


def rewind_group(config: dict, group: str, topic: str, timestamp_ms: int) -> None:
    """Commit, for `group` on every partition of `topic`, the first offset at or after `timestamp_ms`."""
    # A consumer that never subscribes: it only asks questions, it does not join the group.
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        query = [TopicPartition(topic, p, timestamp_ms) for p in sorted(partitions)]
        targets = []
        for tp in consumer.offsets_for_times(query, timeout=10):
            offset = tp.offset
            if offset < 0:  # no record at or after the time: start at the end, wait for new ones
                _low, offset = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=10)
            targets.append(TopicPartition(topic, tp.partition, offset))
    finally:
        consumer.close()
    admin = AdminClient(config)
    request = [ConsumerGroupTopicPartitions(group, targets)]
    admin.alter_consumer_group_offsets(request)[group].result(timeout=15)

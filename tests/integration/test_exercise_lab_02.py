"""Lab 02 checker: a fresh scenario per attempt; rejects rewinds in seconds, to some partitions only,
committing -1 where no record is late enough, the answer of another scenario, and offsets chosen
without asking the broker for times; accepts the reference and a Consumer.commit() variant."""

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from brokerlab.course import checks
from brokerlab.exercises import lab_02_offset_management as lab02

pytestmark = pytest.mark.integration
# A fixed scenario (3+ partitions, partition 0 has records after the time), so a test can name the
# partitions a hint must name.
SEED = next(seed for seed in range(1000) if lab02.Scenario.draw(seed).partitions >= 3
            and 0 not in lab02.Scenario.draw(seed).no_record_that_late())


def in_seconds(config, group, topic, timestamp_ms):
    """The reference, but given a time in seconds (what time.time() returns)."""
    checks.load_solution("lab_02_offset_management").rewind_group(config, group, topic, timestamp_ms // 1000)


def partition_zero_only(config, group, topic, timestamp_ms):
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        found = consumer.offsets_for_times([TopicPartition(topic, 0, timestamp_ms)], timeout=10)
    finally:
        consumer.close()
    admin = AdminClient(config)
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, found)])[group].result(timeout=10)


def commit_what_offsets_for_times_says(config, group, topic, timestamp_ms):
    """Every partition, but -1 ('no record that late') is committed as it is: the client drops it."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        query = [TopicPartition(topic, p, timestamp_ms) for p in partitions]
        consumer.commit(offsets=consumer.offsets_for_times(query, timeout=10), asynchronous=False)
    finally:
        consumer.close()


def commit(config, group, topic, offsets):
    admin = AdminClient(config)
    tps = [TopicPartition(topic, p, o) for p, o in offsets.items()]
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, tps)])[group].result(timeout=10)


def literal_answer_of(seed):
    """The offsets that were right for another attempt's scenario, pasted as literals."""
    answer = lab02.Scenario.draw(seed).expected()
    return lambda config, group, topic, _ts: commit(config, group, topic, answer)


def the_end_everywhere(config, group, topic, _timestamp_ms):
    """Built without asking for times: every partition's end (high watermark)."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in partitions}
    finally:
        consumer.close()
    commit(config, group, topic, ends)


def commit_from_a_consumer(config, group, topic, timestamp_ms):
    """Correct variant: Consumer.commit(offsets=...) from a consumer that never subscribes."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        found = consumer.offsets_for_times([TopicPartition(topic, p, timestamp_ms) for p in partitions],
                                           timeout=10)
        targets = [TopicPartition(topic, tp.partition, tp.offset if tp.offset >= 0 else
                                  consumer.get_watermark_offsets(TopicPartition(topic, tp.partition),
                                                                 timeout=10)[1]) for tp in found]
        consumer.commit(offsets=targets, asynchronous=False)
    finally:
        consumer.close()


def not_attempted(*_args):
    raise NotImplementedError


def failed(result):
    return "\n".join(line for line in result.feedback if line.startswith("✘"))


def test_rejects_a_time_in_seconds(brokers):
    result = lab02.check_rewind_group(in_seconds, brokers)
    assert not result.passed
    assert "very beginning" in failed(result) and "MILLISECONDS" in failed(result), result


def test_rejects_rewinding_one_partition(brokers):
    s = lab02.Scenario.draw(SEED)
    result = lab02.check_rewind_group(partition_zero_only, brokers, seed=SEED)
    assert not result.passed
    text = failed(result)
    others = [p for p in range(1, s.partitions) if p not in s.no_record_that_late()]
    assert f"Partition(s) {others} were not rewound" in text and "EVERY partition" in text, result


def test_rejects_committing_minus_one(brokers):
    s = lab02.Scenario.draw(SEED)
    result = lab02.check_rewind_group(commit_what_offsets_for_times_says, brokers, seed=SEED)
    assert not result.passed
    text = failed(result)
    assert f"Partition(s) {s.no_record_that_late()} have no record at or after the time" in text, result
    assert "END" in text, result


def test_rejects_the_literal_answer_of_another_attempt(brokers):
    result = lab02.check_rewind_group(literal_answer_of(SEED + 1), brokers, seed=SEED)
    assert not result.passed, result


def test_rejects_offsets_chosen_without_asking_for_times(brokers):
    result = lab02.check_rewind_group(the_end_everywhere, brokers)
    assert not result.passed, result


def test_hints_never_print_the_expected_offsets(brokers):
    s = lab02.Scenario.draw(SEED)
    result = lab02.check_rewind_group(partition_zero_only, brokers, seed=SEED)
    assert "expected" not in str(result).lower(), result
    assert str(s.expected()) not in str(result)


def test_not_attempted_is_a_hint_not_a_traceback(brokers):
    result = lab02.check_rewind_group(not_attempted, brokers)
    assert not result.passed and "Not attempted" in result.feedback[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_accepts_the_reference_on_any_scenario(brokers, seed):
    reference = checks.load_solution("lab_02_offset_management")
    result = lab02.check_rewind_group(reference.rewind_group, brokers, seed=seed)
    assert result.passed, result


def test_accepts_a_commit_from_a_consumer(brokers):
    result = lab02.check_rewind_group(commit_from_a_consumer, brokers)
    assert result.passed, result

"""Checker for notebook 02's exercise: per-partition consumer lag of a group, on the live cluster.

Each attempt draws a fresh scenario from a seed it prints (``check_partition_lag(fn, seed=N)``
builds the same one again): 4 to 6 partitions, each with a random number of records (random
keys and payloads), and in random places

- a partition whose first records were deleted and where the group never committed (its lag
  counts from the low watermark, not from 0),
- a partition where the group never committed and nothing was deleted,
- a partition the group has read to the end (lag 0),
- partitions where the group committed part way (some of them with deleted records below the
  commit).

The checker runs the learner's ``partition_lag(config, group, topic)`` against it, compares,
and deletes the scenario again. Every mismatch becomes a specific hint (missing partitions, off
by one, a total instead of a dict, OFFSET_INVALID, position instead of committed, counting from
0 instead of the low watermark); a hint names the partitions that are wrong, never the lags
that would be right.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.brokers import cleanup
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import kafka_records, seeds
from brokerlab.exercises.kafka_records import Record
from brokerlab.settings import Endpoints, endpoints, ns

EXERCISE = "lesson_02_consumer_lag"
OFFSET_INVALID = -1001  # what committed() and position() return when there is no offset
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."

CHECKPOINTS: tuple[Checkpoint, ...] = (
    Checkpoint(
        "lesson_02_checkpoint_produce_returns",
        "What does confluent_kafka's Producer.produce() return?",
        frozenset({"b"}),
        "produce() only queues the message and returns None; librdkafka sends it in the background, "
        "and the outcome arrives in the delivery report that poll() or flush() runs.",
        "Look at what the article's snippet called .get() on, and at what happened then.",
        {"a": "the partition and offset the broker gave the message",
         "b": "None: the outcome comes later, in a delivery report served by poll() or flush()",
         "c": "a Future, whose .get() waits for the broker"}),
    Checkpoint(
        "lesson_02_checkpoint_committed_offset",
        "A consumer has processed the records at offsets 0 to 9 of a partition and commits its "
        "position. Which offset does the group store? (one number)",
        frozenset({"10"}),
        "The committed offset is the NEXT offset the group will read: the last one processed + 1. "
        "A restarted member resumes there, at offset 10.",
        "The committed offset says where a restarted member starts reading, not what it read last.",
        {}),
)


@dataclass(frozen=True)
class Slot:
    """One partition of the scenario: how many records, how many deleted, what the group committed."""

    records: int
    deleted: int
    committed: int | None

    @property
    def lag(self) -> int:
        start = self.committed if self.committed is not None else self.deleted
        return self.records - start


def scenario(seed: int) -> tuple[Slot, ...]:
    """The partitions of the scenario drawn from ``seed`` (the same seed, the same scenario)."""
    rng = random.Random(seed)
    count = rng.randint(4, 6)
    roles = ["deleted-no-commit", "no-commit", "caught-up"] + ["part-way"] * (count - 3)
    rng.shuffle(roles)
    slots = []
    for role in roles:
        records = rng.randint(5, 16)
        if role == "deleted-no-commit":
            slots.append(Slot(records, rng.randint(1, records - 2), None))
        elif role == "no-commit":
            slots.append(Slot(records, 0, None))
        elif role == "caught-up":
            slots.append(Slot(records, rng.choice((0, rng.randint(1, records - 1))), records))
        else:
            committed = rng.randint(2, records - 1)
            slots.append(Slot(records, rng.choice((0, rng.randint(1, committed - 1))), committed))
    return tuple(slots)


def expected_lags(slots: tuple[Slot, ...]) -> dict[int, int]:
    """The right answer for a scenario: {partition: lag}."""
    return {p: slot.lag for p, slot in enumerate(slots)}


def _wait(futures: dict, what: str, timeout: float = 15.0) -> None:
    for future in futures.values():
        try:
            future.result(timeout=timeout)
        except (KafkaException, TimeoutError) as exc:
            raise BrokerlabError(f"The checker could not {what} on Kafka: {exc}", FIX) from None


def _setup(ep: Endpoints, admin: AdminClient, topic: str, group: str, slots: tuple[Slot, ...],
           rng: random.Random) -> None:
    _wait(admin.create_topics([NewTopic(topic, num_partitions=len(slots))], operation_timeout=10),
          f"create topic {topic!r}")
    kafka_records.write(ep, topic, (Record(partition, rng.randbytes(rng.randint(8, 64)))
                                    for partition, slot in enumerate(slots)
                                    for _ in range(slot.records)), FIX)
    deletions = [TopicPartition(topic, p, slot.deleted) for p, slot in enumerate(slots) if slot.deleted]
    if deletions:
        _wait(admin.delete_records(deletions, operation_timeout=10), "delete the first records")
    commits = [TopicPartition(topic, p, slot.committed) for p, slot in enumerate(slots)
               if slot.committed is not None]
    _wait(admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, commits)]),
          f"commit offsets for group {group!r}")


def _committed_now(admin: AdminClient, group: str, topic: str) -> dict[int, int] | None:
    """The group's committed offsets on ``topic`` (None when the broker cannot say)."""
    try:
        reply = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
        listed = reply.result(timeout=15).topic_partitions or []
    except (KafkaException, TimeoutError):
        return None
    return dict(sorted((tp.partition, tp.offset) for tp in listed if tp.topic == topic and tp.offset >= 0))


def _wrong(partitions: list[int]) -> str:
    return f"Wrong lag on partition(s) {partitions}."


def judge(fb: Feedback, got: Any, slots: tuple[Slot, ...]) -> bool:
    """Compare the learner's answer with the scenario's lags; every kind of mistake gets its hint."""
    expected = expected_lags(slots)
    total = sum(expected.values())
    no_commit = sorted(p for p, s in enumerate(slots) if s.committed is None)
    if isinstance(got, bool) or not isinstance(got, dict):
        if isinstance(got, int) and not isinstance(got, bool):
            same = " (that is the total over all partitions)" if got == total else ""
            return fb.expect(False, "", f"You returned one number, {got}{same}. Return one entry per "
                                        "partition instead, a dict {partition: lag}.")
        return fb.expect(False, "", f"Return a dict {{partition number: lag}}; your function returned "
                                    f"a {type(got).__name__}.")
    bad_keys = [k for k in got if isinstance(k, bool) or not isinstance(k, int)]
    if bad_keys:
        return fb.expect(False, "", f"The keys must be partition numbers (int), e.g. 0, 1, 2; got "
                                    f"{bad_keys!r}. Use TopicPartition.partition.")
    bad_values = {k: v for k, v in got.items() if isinstance(v, bool) or not isinstance(v, int)}
    if bad_values:
        return fb.expect(False, "", f"The lags must be whole numbers (int); got {bad_values!r}.")

    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    if extra:
        fb.expect(False, "", f"The topic has partitions {sorted(expected)}, but your dict also has {extra}. "
                             "Take the partitions from list_topics(topic).topics[topic].partitions.")
    if missing and set(missing) <= set(no_commit):
        fb.expect(False, "", f"Partition(s) {missing} are missing: the group never committed there "
                             f"(committed() gives offset {OFFSET_INVALID}, OFFSET_INVALID). It has not "
                             "read them at all, so their lag is every record still in the partition: "
                             "high watermark - low watermark.")
    elif missing:
        fb.expect(False, "", f"Partition(s) {missing} are missing. Report every partition of the "
                             "topic (list_topics(topic).topics[topic].partitions).")

    common = {p: got[p] - expected[p] for p in expected if p in got}
    wrong = {p: d for p, d in common.items() if d != 0}
    if not wrong:
        if missing or extra:
            return False  # the hint is already recorded above
        return fb.expect(True, f"The lag of every partition is right: {expected} (total {total}).", "")

    diffs = set(wrong.values())
    invalid = [p for p in common if got[p] >= abs(OFFSET_INVALID)]
    caught_up = [p for p in common if p not in invalid]
    if len(wrong) == len(common) and diffs in ({1}, {-1}):
        fb.expect(False, "", f"Every lag is off by {diffs.pop():+d}. The committed offset is the NEXT "
                             "offset the group will read (not the last one it read), and the high "
                             "watermark is the offset the NEXT record will get. So lag = high - committed, "
                             "with no +1 or -1.")
    elif caught_up and sum(expected[p] for p in caught_up) > 0 and all(got[p] == 0 for p in caught_up):
        fb.expect(False, "", "All your lags are 0 (or over 1000), but the group is behind. Did you consume "
                             "and then read position()? A consumer that has just read everything is caught "
                             "up, and where it fetched nothing its position is -1001. The group's lag is "
                             "measured from its committed offsets (Consumer.committed) and nothing should "
                             "be consumed.")
    elif invalid:
        fb.expect(False, "", f"Some lags are over 1000: you subtracted {OFFSET_INVALID} (OFFSET_INVALID, "
                             "'no offset'). committed() returns it where the group never committed, and "
                             "position() returns it before a consumer has fetched anything. Use "
                             "committed(), and the low watermark where there is no commit. "
                             f"{_wrong(sorted(wrong))}")
    else:
        from_zero = [p for p in no_commit if p in wrong and slots[p].deleted
                     and got[p] == slots[p].records]
        if from_zero:
            fb.expect(False, "", f"Partition(s) {from_zero} have no commit, and their first records were "
                                 "deleted: the low watermark is above 0. Count from the low watermark "
                                 "(get_watermark_offsets gives (low, high)), not from offset 0.")
        committed_ignored = [p for p, s in enumerate(slots) if s.committed is not None and p in wrong
                             and got[p] == s.records - s.deleted]
        if committed_ignored:
            fb.expect(False, "", f"Partition(s) {committed_ignored}: your lag counts the whole partition "
                                 "(high - low), but the group committed an offset there. Subtract the "
                                 "committed offset from the high watermark.")
        if not from_zero and not committed_ignored:
            fb.expect(False, "", "Some lags are wrong. Lag = high watermark - committed offset, or "
                                 f"high - low where the group never committed. {_wrong(sorted(wrong))}")
    return False


def check_partition_lag(fn: Callable[[dict, str, str], dict[int, int]], ep: Endpoints | None = None,
                        timeout: float = 30.0, seed: int | None = None,
                        record: bool = True) -> CheckResult:
    """Run ``fn(config, group, topic)`` on a fresh scenario drawn from ``seed`` (printed; random
    when None) and say what is right or wrong."""
    ep = ep or endpoints()
    seed = seeds.announce(EXERCISE, seed)
    slots = scenario(seed)
    print(f"this attempt: a topic with {len(slots)} partitions")
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000}))
    run = uuid.uuid4().hex[:8]
    topic, group = ns(f"exercise-lag-{run}"), ns(f"exercise-lag-group-{run}")
    fb = Feedback(EXERCISE, record=record)
    try:
        _setup(ep, admin, topic, group, slots, random.Random(seed))
        before = _committed_now(admin, group, topic)
        ok, got = fb.call_bounded(fn, ep.kafka_config(), group, topic, timeout=timeout,
                                  hang_hint="Give every call a timeout (list_topics(topic, timeout=10), "
                                            "committed(..., timeout=10), get_watermark_offsets(..., "
                                            "timeout=10)) and do not poll() in a loop.")
        if ok:
            judge(fb, got, slots)
            after = _committed_now(admin, group, topic)
            fb.expect(before is None or after is None or before == after,
                      "Your function left the group's committed offsets as they were.",
                      "Your function changed the group's committed offsets. Measuring lag must not "
                      "move them: create the Consumer with 'enable.auto.commit': False, and do not "
                      "consume or commit.")
    finally:
        cleanup.discard_kafka(admin, [topic], [group])
    return fb.result()

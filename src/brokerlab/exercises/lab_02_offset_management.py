"""Lab 02 exercise: rewind a consumer group to a point in time.

The learner writes ``rewind_group(config, group, topic, timestamp_ms)``: set the committed offsets
of ``group`` on every partition of ``topic`` to the first record whose timestamp is at or after
``timestamp_ms``, so the group's next run replays from that moment. The checker builds a topic
whose records carry known timestamps (the producer sets them), with a group that has read (nearly)
everything, runs the learner's function, reads back the group's committed offsets from the broker
and compares them with the answer it knows (timestamps in seconds after a base an hour ago):

    partition  records  timestamps         committed before  first record at/after base + 6.2 s
    0          10       0, 1, ... 9        10 (the end)      offset 7
    1          10       0.5, 1.5, ... 9.5  10 (the end)      offset 6
    2          5        0, 1, ... 4        3                 none (offsets_for_times: -1): the end, 5

Every kind of mistake gets its hint: rewinding to the beginning (a timestamp in seconds, or
OFFSET_BEGINNING), forgetting partitions, committing -1, off by one, or leaving a consumer in the
group.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.brokers import cleanup
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import kafka_records
from brokerlab.exercises.kafka_records import Record
from brokerlab.settings import Endpoints, endpoints, ns

EXERCISE = "lab_02_offset_management"
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."
# (records, timestamp of the first one in ms after base) per partition; one record per second.
LAYOUT: tuple[tuple[int, int], ...] = ((10, 0), (10, 500), (5, 0))
# Where the group stands before the rewind: partitions 0 and 1 read to the end, partition 2 up to 3.
INITIAL: dict[int, int] = {0: 10, 1: 10, 2: 3}
TARGET_AFTER_BASE_MS = 6200
CALL_TIMEOUT = 30.0


def expected_offsets(layout: tuple[tuple[int, int], ...] = LAYOUT,
                     target: int = TARGET_AFTER_BASE_MS) -> dict[int, int]:
    """{partition: the first offset whose timestamp is >= target, or the end offset if none}."""
    answer = {}
    for p, (records, first_ms) in enumerate(layout):
        at = [i for i in range(records) if first_ms + 1000 * i >= target]
        answer[p] = at[0] if at else records
    return answer


def _setup(ep: Endpoints, admin: AdminClient, topic: str, group: str, base_ms: int) -> None:
    admin.create_topics([NewTopic(topic, num_partitions=len(LAYOUT))])[topic].result(timeout=20)
    kafka_records.write(ep, topic, (Record(p, f"p{p}-r{i}".encode(), base_ms + first_ms + 1000 * i)
                                    for p, (records, first_ms) in enumerate(LAYOUT) for i in range(records)),
                        FIX)
    # Where the group stands before the rewind (it has read partitions 0 and 1 to the end).
    initial = [TopicPartition(topic, p, offset) for p, offset in INITIAL.items()]
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, initial)])[group].result(
        timeout=15)


def committed_offsets(admin: AdminClient, group: str, topic: str) -> dict[int, int]:
    """{partition: committed offset} of ``group`` on ``topic`` as the broker has them (no entry: none)."""
    request = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(len(LAYOUT))])]
    listed = admin.list_consumer_group_offsets(request)[group].result(timeout=15).topic_partitions or []
    return {tp.partition: tp.offset for tp in listed if tp.offset >= 0}


def _first_timestamps(ep: Endpoints, topic: str, offsets: dict[int, int]) -> dict[int, int]:
    """The timestamp of the record at each committed offset (partitions at their end are skipped)."""
    reader = Consumer(ep.kafka_config(**{"group.id": f"{topic}-reader", "enable.auto.commit": False}))
    found: dict[int, int] = {}
    try:
        wanted = {p: o for p, o in offsets.items() if o < LAYOUT[p][0]}
        reader.assign([TopicPartition(topic, p, o) for p, o in wanted.items()])
        deadline = time.monotonic() + 10
        while len(found) < len(wanted) and time.monotonic() < deadline:
            msg = reader.poll(0.5)
            if msg is None or msg.error() is not None or msg.partition() in found:
                continue
            found[msg.partition()] = msg.timestamp()[1]
    finally:
        reader.close()
    return found


def _call_bounded(fb: Feedback, fn: Callable[..., Any], args: tuple) -> bool:
    """Run the learner's function with a deadline; every failure becomes a hint, the broker's
    refusals a specific one."""
    raised: list[BaseException] = []

    def watched(*call_args: Any) -> Any:
        try:
            return fn(*call_args)
        except BaseException as exc:
            raised.append(exc)
            raise

    ok, _ = fb.call_bounded(watched, *args, timeout=CALL_TIMEOUT,
                            hang_hint="Give every call a timeout (offsets_for_times(..., timeout=10), "
                                      "result(timeout=10)) and do not poll() in a loop: rewinding needs "
                                      "no consuming.")
    if raised:
        text = str(raised[0]).lower()
        if "negative" in text or "-1" in text:
            fb.expect(False, "", "offsets_for_times() answers offset -1 for a partition that has no record "
                                 "at or after the time (here partition 2). You cannot commit -1: commit the "
                                 "partition's end instead (the high watermark from get_watermark_offsets), "
                                 "so the group waits there for new records.")
        elif "non_empty_group" in text or "not empty" in text or "unknown_member" in text:
            fb.expect(False, "", "The broker refused to change the offsets of a group with active members. "
                                 "Do not subscribe() a consumer in the group: ask offsets_for_times() with a "
                                 "consumer that never joins, and close() it before committing.")
    return ok


def judge(fb: Feedback, got: dict[int, int], expected: dict[int, int]) -> None:
    """Compare committed offsets with the expected ones; one specific hint per kind of mistake."""
    table = "; ".join(f"partition {p}: expected {o}, committed {got.get(p, 'nothing')}"
                      for p, o in expected.items())
    no_record = sorted(p for p, o in expected.items() if o == LAYOUT[p][0])  # -1 from offsets_for_times
    if got == expected:
        fb.expect(True, f"The group's committed offsets are now {expected}: the first record at or after "
                        "the time on partitions 0 and 1, the end on partition 2 (no record that late).", "")
        return
    if got == INITIAL:
        fb.expect(False, "", "The group's offsets did not move: they are still where the group was "
                             f"({INITIAL}). Commit the offsets you found for the group: "
                             "AdminClient.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, "
                             "[TopicPartition(topic, p, offset), ...])]), or Consumer(group.id=group)"
                             ".commit(offsets=[...], asynchronous=False).")
        return
    if all(got.get(p) == 0 for p in expected):
        fb.expect(False, "", "You rewound the group to the very beginning of every partition (offset 0). "
                             "Either you asked offsets_for_times() with a time in SECONDS (Kafka timestamps "
                             "are MILLISECONDS since 1970: 1.7e9 ms is January 1970, before every record), "
                             f"or you used OFFSET_BEGINNING. {table}.")
        return
    missing = sorted(p for p in expected if p not in got)
    unchanged = sorted(p for p in expected if p in got and got[p] == INITIAL[p] != expected[p])
    left_behind = [p for p in missing + unchanged if p in no_record]
    if left_behind:
        fb.expect(False, "", f"Partition(s) {left_behind} have no record at or after the time, so "
                             "offsets_for_times() answered offset -1 there, and a commit of -1 is dropped "
                             "(the group stays where it was, or has no offset and falls back to "
                             "auto.offset.reset). Commit the partition's END instead (the high watermark, "
                             f"from get_watermark_offsets): the group then waits for new records. {table}.")
    others = [p for p in missing + unchanged if p not in no_record]
    if others:
        fb.expect(False, "", f"Partition(s) {others} were not rewound. Ask offsets_for_times() for EVERY "
                             "partition of the topic (from list_topics(topic).topics[topic].partitions) and "
                             f"commit them all. {table}.")
    unchanged = missing + unchanged
    off_by = {got[p] - expected[p] for p in expected if p in got and p not in unchanged
              and got[p] != expected[p]}
    if off_by and off_by <= {1, -1}:
        fb.expect(False, "", "Off by one: the offset offsets_for_times() returns is already the first record "
                             f"at or after the time. Commit it as it is. {table}.")
    elif off_by:
        fb.expect(False, "", f"Some committed offsets are wrong. {table}.")


def check_rewind_group(fn: Callable[[dict, str, str, int], None], ep: Endpoints | None = None) -> CheckResult:
    """Run ``fn(config, group, topic, timestamp_ms)`` on a fresh topic with known timestamps; judge the
    group's committed offsets afterwards."""
    ep = ep or endpoints()
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000}))
    run = uuid.uuid4().hex[:8]
    topic, group = ns(f"lab02-exercise-{run}"), ns(f"lab02-exercise-group-{run}")
    base_ms = int(time.time() * 1000) - 3_600_000  # the records happened an hour ago
    target = base_ms + TARGET_AFTER_BASE_MS
    expected = expected_offsets()
    fb = Feedback(EXERCISE)
    try:
        _setup(ep, admin, topic, group, base_ms)
        if not _call_bounded(fb, fn, (ep.kafka_config(), group, topic, target)):
            return fb.result()
        try:
            got = committed_offsets(admin, group, topic)
        except (KafkaException, TimeoutError) as exc:
            raise BrokerlabError(f"The checker could not read the group's offsets: {exc}", FIX) from None
        judge(fb, got, expected)
        if got == expected:
            stamps = _first_timestamps(ep, topic, got)
            fb.expect(len(stamps) == 2 and all(ts >= target for ts in stamps.values()),
                      "The first record the group will read on each partition has a timestamp at or after "
                      "the time: " + ", ".join(f"partition {p} +{ts - target} ms" for p, ts in
                                               sorted(stamps.items())) + ".",
                      f"The records at the committed offsets have timestamps {stamps}, expected all >= "
                      f"{target}.")
        return fb.result()
    finally:
        cleanup.discard_kafka(admin, [topic], [group])

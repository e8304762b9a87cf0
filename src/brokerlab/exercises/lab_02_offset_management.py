"""Lab 02 exercise: rewind a consumer group to a point in time.

The learner writes ``rewind_group(config, group, topic, timestamp_ms)``: set the committed offsets
of ``group`` on every partition of ``topic`` to the first record whose timestamp is at or after
``timestamp_ms``, so the group's next run replays from that moment. Each attempt draws a fresh
scenario from a seed it prints: the partition count, how many records each partition holds, their
timestamps (the producer sets them, at random gaps, an hour or two ago), random payloads, where the
group stands before the rewind, and the time to rewind to. One partition always has no record that
late (``offsets_for_times`` answers -1 there: commit its end). The checker runs the learner's
function, reads the group's committed offsets back from the broker and compares them with the
answer it computed from the scenario, which it never prints: a hint names the kind of mistake
(a time in seconds, forgotten partitions, committing -1, off by one, a consumer left in the group)
and the partitions concerned, not the offsets to commit.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
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
from brokerlab.exercises import kafka_records, seeds
from brokerlab.exercises.kafka_records import Record
from brokerlab.settings import Endpoints, endpoints, ns

EXERCISE = "lab_02_offset_management"
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."
CALL_TIMEOUT = 30.0


@dataclass(frozen=True)
class Scenario:
    """One attempt: per partition the records' timestamps (ms after ``base_ms``), where the group
    stands before the rewind, and the time to rewind to (ms after ``base_ms``)."""

    seed: int
    base_ms: int
    stamps: tuple[tuple[int, ...], ...]
    initial: tuple[int, ...]
    target_after_base: int

    @classmethod
    def draw(cls, seed: int | None = None, now_ms: int | None = None) -> Scenario:
        seed, rng = seeds.draw(EXERCISE, seed)
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        partitions = rng.randint(2, 4)
        target = rng.randint(20_000, 40_000)
        no_late = rng.randrange(partitions)  # this partition has no record at or after the target
        stamps = []
        for p in range(partitions):
            count = rng.randint(5, 12)
            if p == no_late:
                last = target - rng.randint(500, 5000)
                gaps = [rng.randint(200, 2000) for _ in range(count - 1)]
                first = last - sum(gaps)
            else:  # records on both sides of the target, the first ones before it
                first = target - rng.randint(2, count - 1) * 1500 - rng.randint(0, 1000)
                gaps = [rng.randint(500, 3000) for _ in range(count - 1)]
            ts = [first]
            for gap in gaps:
                ts.append(ts[-1] + gap)
            if p != no_late and ts[-1] < target:  # at least one record at or after the target
                ts[-1] = target + rng.randint(0, 2000)
            stamps.append(tuple(ts))
        answer = _answer(stamps, target)
        # Where the group stands before the rewind: anywhere but the answer, and never at offset 0,
        # so a group left where it was and a group rewound to the very beginning differ.
        initial = tuple(rng.choice([o for o in range(1, len(ts) + 1) if o != answer[p]])
                        for p, ts in enumerate(stamps))
        base = now_ms - rng.randint(3_600_000, 7_200_000)  # an hour or two ago
        return cls(seed, base, tuple(stamps), initial, target)

    @property
    def partitions(self) -> int:
        return len(self.stamps)

    @property
    def target_ms(self) -> int:
        return self.base_ms + self.target_after_base

    def expected(self) -> dict[int, int]:
        """{partition: the first offset whose timestamp is >= the target, or the end offset if none}."""
        return _answer(self.stamps, self.target_after_base)

    def no_record_that_late(self) -> list[int]:
        return [p for p, o in self.expected().items() if o == len(self.stamps[p])]

    def describe(self) -> str:
        return (f"seed {self.seed}: {self.partitions} partitions with "
                f"{', '.join(str(len(ts)) for ts in self.stamps)} records, timestamps "
                f"{(self.base_ms + min(min(ts) for ts in self.stamps)) // 1000}-"
                f"{(self.base_ms + max(max(ts) for ts in self.stamps)) // 1000} s since 1970; "
                f"rewind to {self.target_ms} ms")


def _answer(stamps: list[tuple[int, ...]] | tuple[tuple[int, ...], ...], target: int) -> dict[int, int]:
    answer = {}
    for p, ts in enumerate(stamps):
        at = [i for i, t in enumerate(ts) if t >= target]
        answer[p] = at[0] if at else len(ts)
    return answer


def _setup(ep: Endpoints, admin: AdminClient, topic: str, group: str, s: Scenario) -> None:
    admin.create_topics([NewTopic(topic, num_partitions=s.partitions)])[topic].result(timeout=20)
    kafka_records.write(ep, topic, (Record(p, uuid.uuid4().hex.encode(), s.base_ms + t)
                                    for p, ts in enumerate(s.stamps) for t in ts), FIX)
    # Where the group stands before the rewind.
    initial = [TopicPartition(topic, p, offset) for p, offset in enumerate(s.initial)]
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, initial)])[group].result(
        timeout=15)


def committed_offsets(admin: AdminClient, group: str, topic: str, partitions: int) -> dict[int, int]:
    """{partition: committed offset} of ``group`` on ``topic`` as the broker has them (no entry: none)."""
    request = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(partitions)])]
    listed = admin.list_consumer_group_offsets(request)[group].result(timeout=15).topic_partitions or []
    return {tp.partition: tp.offset for tp in listed if tp.offset >= 0}


def _first_timestamps(ep: Endpoints, topic: str, offsets: dict[int, int], s: Scenario) -> dict[int, int]:
    """The timestamp of the record at each committed offset (partitions at their end are skipped)."""
    reader = Consumer(ep.kafka_config(**{"group.id": f"{topic}-reader", "enable.auto.commit": False}))
    found: dict[int, int] = {}
    try:
        wanted = {p: o for p, o in offsets.items() if o < len(s.stamps[p])}
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

    @functools.wraps(fn)  # keeps fn's module: a reference solution's run is still not recorded
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
                                 "at or after the time. You cannot commit -1: commit the "
                                 "partition's end instead (the high watermark from get_watermark_offsets), "
                                 "so the group waits there for new records.")
        elif "non_empty_group" in text or "not empty" in text or "unknown_member" in text:
            fb.expect(False, "", "The broker refused to change the offsets of a group with active members. "
                                 "Do not subscribe() a consumer in the group: ask offsets_for_times() with a "
                                 "consumer that never joins, and close() it before committing.")
    return ok


def judge(fb: Feedback, got: dict[int, int], s: Scenario) -> None:
    """Compare committed offsets with the scenario's answer; one specific hint per kind of mistake,
    naming partitions, never the offsets to commit."""
    expected = s.expected()
    initial = dict(enumerate(s.initial))
    table = "; ".join(f"partition {p}: committed {got.get(p, 'nothing')}" for p in expected)
    no_record = s.no_record_that_late()
    if got == expected:
        fb.expect(True, f"The group's committed offsets on all {s.partitions} partitions are the first "
                        f"record at or after the time, and the end of partition(s) {no_record}, which have "
                        "no record that late.", "")
        return
    if got == initial:
        fb.expect(False, "", "The group's offsets did not move: they are still where the group was. Commit "
                             "the offsets you found for the group: "
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
    unchanged = sorted(p for p in expected if p in got and got[p] == initial[p])
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
    wrong = [p for p in expected if p in got and p not in missing + unchanged and got[p] != expected[p]]
    off_by = {got[p] - expected[p] for p in wrong}
    if off_by and off_by <= {1, -1}:
        fb.expect(False, "", f"Off by one on partition(s) {wrong}: the offset offsets_for_times() returns is "
                             f"already the first record at or after the time. Commit it as it is. {table}.")
    elif wrong:
        fb.expect(False, "", f"The committed offsets on partition(s) {wrong} are not the first record at or "
                             "after the time. Ask the broker with offsets_for_times() (a time in "
                             f"milliseconds) for this topic; answers from an earlier attempt do not fit: "
                             f"every attempt writes new records. {table}.")


def check_rewind_group(fn: Callable[[dict, str, str, int], None], ep: Endpoints | None = None,
                       seed: int | None = None) -> CheckResult:
    """Run ``fn(config, group, topic, timestamp_ms)`` on a fresh scenario (drawn from ``seed``, a random
    one by default); judge the group's committed offsets afterwards."""
    ep = ep or endpoints()
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000}))
    run = uuid.uuid4().hex[:8]
    topic, group = ns(f"lab02-exercise-{run}"), ns(f"lab02-exercise-group-{run}")
    s = Scenario.draw(seed)
    print(f"Scenario {s.describe()}")
    fb = Feedback(EXERCISE)
    try:
        _setup(ep, admin, topic, group, s)
        if not _call_bounded(fb, fn, (ep.kafka_config(), group, topic, s.target_ms)):
            return fb.result()
        try:
            got = committed_offsets(admin, group, topic, s.partitions)
        except (KafkaException, TimeoutError) as exc:
            raise BrokerlabError(f"The checker could not read the group's offsets: {exc}", FIX) from None
        judge(fb, got, s)
        if got == s.expected():
            stamps = _first_timestamps(ep, topic, got, s)
            rewound = s.partitions - len(s.no_record_that_late())
            fb.expect(len(stamps) == rewound and all(ts >= s.target_ms for ts in stamps.values()),
                      "The first record the group will read on each partition has a timestamp at or after "
                      "the time: " + ", ".join(f"partition {p} +{ts - s.target_ms} ms" for p, ts in
                                               sorted(stamps.items())) + ".",
                      "The records at the committed offsets do not all have timestamps at or after the time.")
        return fb.result()
    finally:
        cleanup.discard_kafka(admin, [topic], [group])

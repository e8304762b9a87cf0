"""Lab 01 exercise: how many consumers drain a backlog before a deadline.

The learner writes ``consumers_needed(partitions, backlog_per_partition, records_per_second,
deadline_s)``: the smallest consumer-group size that processes a backlog (the same number of
records on every partition) within the deadline, when each consumer handles
``records_per_second``. Kafka gives every partition to exactly one member of the group, so a
group of ``n`` is only as fast as its busiest member, which owns ``ceil(partitions / n)``
partitions; members beyond the partition count get nothing and sit idle.

The checker judges the answer on several scenarios by that arithmetic (each mistake gets its own
hint), then runs the learner's group size for one scenario LIVE: it starts that many consumer
processes (``brokerlab.observe.workers``) that each take a fixed time per record, waits until the group
coordinator has settled the assignment (and counts the members it left without a partition), then
writes the backlog and measures how long the group takes to process it, confirmed by the broker's
own lag numbers.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupState, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.brokers import cleanup
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import kafka_records
from brokerlab.exercises.kafka_records import Record
from brokerlab.observe import metrics, workers
from brokerlab.settings import Endpoints, endpoints, ns

EXERCISE = "lab_01_consumer_lag"
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."
SLACK = 3.0  # seconds the live run may exceed the deadline (scheduling on a busy machine)
JOIN_TIMEOUT = 20.0  # seconds for the live group to settle before the backlog is written
MAX_LIVE_CONSUMERS = 10  # the checker starts at most this many processes


@dataclass(frozen=True)
class Scenario:
    """A backlog spread evenly over a topic's partitions, a consumer speed and a deadline."""

    partitions: int
    backlog_per_partition: int
    records_per_second: float
    deadline_s: float

    def drain_seconds(self, n: int) -> float:
        """How long a group of ``n`` takes: its busiest member owns ceil(partitions / n) partitions."""
        busiest = math.ceil(self.partitions / min(n, self.partitions))
        return busiest * self.backlog_per_partition / self.records_per_second

    def answer(self) -> int:
        """The smallest group that meets the deadline; the partition count when none does."""
        for n in range(1, self.partitions + 1):
            if self.drain_seconds(n) <= self.deadline_s:
                return n
        return self.partitions

    def args(self) -> tuple[int, int, float, float]:
        return (self.partitions, self.backlog_per_partition, self.records_per_second, self.deadline_s)


LIVE = Scenario(partitions=6, backlog_per_partition=40, records_per_second=20.0, deadline_s=8.0)
SCENARIOS: tuple[Scenario, ...] = (
    LIVE,                                      # 1 is too slow (12 s), 2 suffice (6 s)
    Scenario(6, 50, 25.0, 3.5),                # 4 and 5 are no faster than 3: only 6 meet it
    Scenario(6, 10, 50.0, 5.0),                # one consumer is enough
    Scenario(4, 100, 10.0, 5.0),               # impossible: more than 4 consumers cannot help
    Scenario(12, 30, 10.0, 10.0),              # 4 consumers: 3 partitions each, 9 s
)


def _describe(s: Scenario) -> str:
    return (f"{s.partitions} partitions x {s.backlog_per_partition} records, "
            f"{s.records_per_second:g} records/s per consumer, deadline {s.deadline_s:g} s")


def judge(fb: Feedback, fn: Callable[..., Any]) -> int | None:
    """Judge ``fn`` on every scenario by arithmetic; returns its answer for the live scenario."""
    live_answer: int | None = None
    for s in SCENARIOS:
        ok, got = fb.call(fn, *s.args())
        if not ok:
            return None
        if isinstance(got, bool) or not isinstance(got, int):
            fb.expect(False, "", f"Return a whole number of consumers (int); for {_describe(s)} your "
                                 f"function returned {type(got).__name__} {got!r}. "
                                 "Hint: math.ceil gives an int.")
            return None
        if s is LIVE:
            live_answer = got
        want = s.answer()
        if got == want:
            continue
        if got < 1:
            fb.expect(False, "", f"{_describe(s)}: you returned {got}; a group needs at least 1 consumer.")
        elif got > s.partitions:
            fb.expect(False, "", f"{_describe(s)}: you returned {got}, but the topic has only "
                                 f"{s.partitions} partitions, so {got - s.partitions} consumer(s) would "
                                 "get no partition and sit idle. Never return more than the partition "
                                 f"count (expected {want}).")
        elif s.drain_seconds(want) > s.deadline_s:
            fb.expect(False, "", f"{_describe(s)}: you returned {got}. No group size meets this deadline "
                                 "(even one partition per consumer takes "
                                 f"{s.drain_seconds(s.partitions):g} s), "
                                 f"and consumers beyond {s.partitions} would sit idle: return the partition "
                                 f"count, {want}, and go as fast as the topic allows.")
        elif got < want:
            fb.expect(False, "", f"{_describe(s)}: with {got} consumer(s) the busiest one owns "
                                 f"ceil({s.partitions}/{got}) = {math.ceil(s.partitions / got)} partitions "
                                 f"= {math.ceil(s.partitions / got) * s.backlog_per_partition} records, "
                                 f"which takes {s.drain_seconds(got):g} s > {s.deadline_s:g} s. A partition "
                                 "is never split between consumers: count whole partitions per consumer, "
                                 f"not records / total speed (expected {want}).")
        else:
            fb.expect(False, "", f"{_describe(s)}: you returned {got}, but {want} consumer(s) already "
                                 f"finish in {s.drain_seconds(want):g} s <= {s.deadline_s:g} s. Return the "
                                 "SMALLEST group that meets the deadline.")
    if fb.failed == 0:
        fb.expect(True, f"Right group size on all {len(SCENARIOS)} scenarios (e.g. {_describe(SCENARIOS[1])}"
                        f" needs {SCENARIOS[1].answer()}: with 4 or 5 the busiest still owns 2 partitions).",
                  "")
    return live_answer


# --- the live run ------------------------------------------------------------------------------

def drain_worker(conf: dict, topic: str, group: str, seconds_per_record: float,
                 ledger: workers.Ledger, stop: Any) -> None:
    """One member of the group: take ``seconds_per_record`` per record, commit after each one."""
    consumer = Consumer({**conf, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "session.timeout.ms": 6000})
    consumer.subscribe([topic])
    try:
        while not stop.is_set():
            msg = consumer.poll(0.2)
            if msg is None or msg.error() is not None:
                continue
            time.sleep(seconds_per_record)  # the "work"
            ledger.record(f"{msg.partition()}:{msg.offset()}:{time.time():.3f}")
            consumer.commit(message=msg, asynchronous=True)
    finally:
        consumer.close()


@dataclass
class LiveRun:
    """What the live run measured."""

    consumers: int
    drained: bool
    drain_seconds: float | None
    remaining_lag: int
    members: int
    idle_members: int


def _fill(ep: Endpoints, topic: str, s: Scenario) -> None:
    kafka_records.write(ep, topic, (Record(p, f"{p}-{i}".encode())
                                    for p in range(s.partitions) for i in range(s.backlog_per_partition)),
                        FIX)


def group_members(admin: AdminClient, group: str) -> list[list[int]] | None:
    """The partitions the group coordinator gave each member (one list per member); None while the
    group is rebalancing (its assignment is not settled yet)."""
    description = admin.describe_consumer_groups([group], request_timeout=5)[group].result(timeout=10)
    if description.state != ConsumerGroupState.STABLE:
        return None
    return [sorted(tp.partition for tp in m.assignment.topic_partitions) for m in description.members]


def run_live(ep: Endpoints, n: int, s: Scenario = LIVE) -> LiveRun:
    """Start ``n`` consumer processes on an empty topic; once the group has settled, write the backlog
    and measure how long the group takes to process it, and how many members got no partition."""
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000}))
    run = uuid.uuid4().hex[:8]
    topic, group = ns(f"lab01-exercise-{run}"), ns(f"lab01-exercise-group-{run}")
    admin.create_topics([NewTopic(topic, num_partitions=s.partitions)])[topic].result(timeout=20)
    stop = multiprocessing.get_context("fork").Event()
    ledger = workers.Ledger()
    started: list[workers.Worker] = []
    total = s.partitions * s.backlog_per_partition
    try:
        for i in range(n):
            started.append(workers.start(drain_worker, ep.kafka_config(), topic, group,
                                         1 / s.records_per_second, ledger, stop, name=f"drain-{i}"))
        members, idle = 0, 0
        join_deadline = time.monotonic() + JOIN_TIMEOUT
        while members < n and time.monotonic() < join_deadline:
            time.sleep(0.3)
            with contextlib.suppress(KafkaException, TimeoutError):
                assignment = group_members(admin, group)
                settled = assignment is not None and len(assignment) == n
                if settled and sum(len(a) for a in assignment) == s.partitions:
                    members, idle = n, sum(1 for a in assignment if not a)
        if members < n:
            return LiveRun(n, False, None, total, members, idle)
        # The group is settled: from now on the clock measures processing, not joining.
        filled_at = time.time()
        _fill(ep, topic, s)
        lag = total
        limit = time.monotonic() + s.deadline_s + SLACK + 5
        while time.monotonic() < limit:
            time.sleep(0.5)
            done = {tuple(item.split(":")[:2]) for item in ledger.items()}
            if len(done) >= total:
                lag = sum(row.lag for row in metrics.kafka_group_lag(ep, group, topic))
                if lag == 0:
                    break
        if lag != 0:
            lag = sum(row.lag for row in metrics.kafka_group_lag(ep, group, topic))
        times = [float(item.split(":")[2]) for item in ledger.items()]
        drained = lag == 0 and len({tuple(i.split(":")[:2]) for i in ledger.items()}) >= total
        seconds = max(times) - filled_at if drained and times else None
        return LiveRun(n, drained, seconds, lag, members, idle)
    finally:
        stop.set()
        for w in started:
            with contextlib.suppress(BrokerlabError):
                w.join(15)
        cleanup.discard_kafka(admin, [topic], [group])
        ledger.path.unlink(missing_ok=True)


def check_consumers_needed(fn: Callable[[int, int, float, float], int],
                           ep: Endpoints | None = None) -> CheckResult:
    """Judge ``fn`` by arithmetic on several scenarios, then run its answer for one of them live."""
    ep = ep or endpoints()
    fb = Feedback(EXERCISE)
    n = judge(fb, fn)
    if n is None or not 1 <= n <= MAX_LIVE_CONSUMERS:
        if n is not None:
            fb.expect(False, "", f"Live run skipped: the checker starts 1 to {MAX_LIVE_CONSUMERS} "
                                 f"consumers, your answer was {n}.")
        return fb.result()
    live = run_live(ep, n)
    s = LIVE
    fb.expect(live.idle_members == 0 and live.members == n,
              f"Live: all {n} consumers got partitions (the coordinator left none idle).",
              f"Live: the group coordinator gave {live.idle_members} of your {n} consumers no partition "
              f"at all (members seen: {live.members}): a topic with {s.partitions} partitions keeps at "
              f"most {s.partitions} consumers of one group busy."
              if live.members == n else
              f"Live: the checker did not see all {n} consumers join the group within {JOIN_TIMEOUT:g} s "
              f"(saw {live.members}). Check the brokers with `brokerlab status`.")
    if live.drained and live.drain_seconds is not None:
        fb.expect(live.drain_seconds <= s.deadline_s + SLACK,
                  f"Live: {n} consumer(s) drained {s.partitions * s.backlog_per_partition} records in "
                  f"{live.drain_seconds:.1f} s (deadline {s.deadline_s:g} s); the broker reports lag 0.",
                  f"Live: {n} consumer(s) needed {live.drain_seconds:.1f} s to drain the backlog, over "
                  f"the {s.deadline_s:g} s deadline (+{SLACK:g} s of tolerance).")
    else:
        fb.expect(False, "", f"Live: {n} consumer(s) did not drain the backlog in time: the broker still "
                             f"reports a lag of {live.remaining_lag} records after the deadline "
                             f"({s.deadline_s:g} s + {SLACK + 5:g} s).")
    return fb.result()

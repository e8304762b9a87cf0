"""Lab 01 exercise: a consumer-group member whose lag the broker sees go to zero.

The learner writes ``drain(config, topic, handle, stop)``: one member of a consumer group. It
builds a ``Consumer`` from ``config`` (``bootstrap.servers`` and ``group.id`` are in it), subscribes
to ``topic``, calls ``handle(msg)`` for every record, makes the group's committed offsets follow
what it handled, and, once ``stop`` (a ``threading.Event``) is set, leaves the group cleanly.

The checker draws a scenario for each attempt from a seed it prints: the partition count, the
records on each partition (random payloads), the time ``handle`` spends per record, and how many
members the group has. It writes the records, runs that many copies of the learner's function in
threads, and measures the group's lag from the broker (committed offsets against high watermarks)
until it is 0. A pass needs: every record handled (payloads compared with what was written: a
function that never reads Kafka cannot produce them), the broker reporting lag 0 on every
partition within the scenario's deadline, every copy returning within seconds of ``stop`` without
an exception, and the group empty afterwards (each member ``close()``-d). A function that raises
gets the exception's last line and a hint.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.brokers import cleanup
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback, is_reference
from brokerlab.exercises import kafka_records, seeds
from brokerlab.exercises.kafka_records import Record
from brokerlab.observe import metrics
from brokerlab.settings import Endpoints, endpoints, ns

EXERCISE = "lab_01_consumer_lag"
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."
JOIN_SLACK = 15.0  # seconds on top of the work itself: joining the group, the first fetch
STOP_GRACE = 10.0  # seconds each copy has to return once `stop` is set
EMPTY_WAIT = 10.0  # seconds for the group to be empty after every copy returned

CHECKPOINTS = (
    Checkpoint(
        "lab_01_checkpoint_idle_members",
        "A topic has 6 partitions. A classic consumer group on it has 8 members. How many members "
        "receive no record at all?",
        frozenset({"b"}),
        "Each partition goes to exactly one member of a classic (or KIP-848) consumer group: 6 members "
        "get one partition each, the other 2 sit idle until a member leaves.",
        "Count partitions per member: can two members of one group read the same partition?",
        {"a": "none: the group spreads the records over all 8", "b": "2", "c": "it depends on the keys"},
    ),
    Checkpoint(
        "lab_01_checkpoint_max_poll",
        "A consumer takes 500 records per consume() call and spends 20 ms on each, with "
        "max.poll.interval.ms=6000. What happens?",
        frozenset({"c"}),
        "500 x 20 ms = 10 s between two calls, more than 6 s: the client leaves the group, its "
        "partitions go to other members, and its commit after the batch is refused.",
        "Compare the time between two consume() calls with max.poll.interval.ms.",
        {"a": "nothing: heartbeats keep it in the group", "b": "the broker deletes the records",
         "c": "it is evicted from the group mid-batch"},
    ),
)


@dataclass(frozen=True)
class Scenario:
    """One attempt: records per partition, the handler's time per record, the group size."""

    seed: int
    per_partition: tuple[int, ...]
    work_s: float
    members: int

    @classmethod
    def draw(cls, seed: int | None = None) -> Scenario:
        seed, rng = seeds.draw(EXERCISE, seed)
        partitions = rng.randint(2, 5)
        per_partition = tuple(rng.randint(10, 40) for _ in range(partitions))
        return cls(seed, per_partition, rng.choice((0.005, 0.01, 0.015, 0.02)), rng.randint(1, partitions))

    @property
    def partitions(self) -> int:
        return len(self.per_partition)

    @property
    def total(self) -> int:
        return sum(self.per_partition)

    def deadline_s(self) -> float:
        """The work of the busiest member (it may own ceil(P/n) partitions), twice over, plus joining."""
        busiest = sorted(self.per_partition, reverse=True)[:math.ceil(self.partitions / self.members)]
        return 2 * sum(busiest) * self.work_s + JOIN_SLACK

    def describe(self) -> str:
        return (f"seed {self.seed}: {self.partitions} partitions with "
                f"{', '.join(map(str, self.per_partition))} records, {self.work_s * 1000:g} ms of work per "
                f"record, {self.members} member(s)")


@dataclass
class LiveRun:
    """What the checker measured while the learner's members ran."""

    written: set[bytes] = field(default_factory=set)
    handled: Counter[bytes] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lag_samples: list[int] = field(default_factory=list)
    drain_seconds: float | None = None
    final_lag: int | None = None
    still_running: int = 0
    group_state: str = ""


def _handler(run: LiveRun, work_s: float, lock: threading.Lock) -> Callable[[Any], None]:
    def handle(msg: Any) -> None:
        value = msg if isinstance(msg, bytes) else msg.value()
        time.sleep(work_s)  # the work
        with lock:
            run.handled[value] += 1
    return handle


def _member(fn: Callable[..., Any], config: dict, topic: str, handle: Callable[[Any], None],
            stop: threading.Event, run: LiveRun) -> None:
    try:
        fn(config, topic, handle, stop)
    except Exception as exc:  # the learner's code: its failure is feedback
        if isinstance(exc, NotImplementedError):
            run.errors.append("NotImplementedError")
        else:
            run.errors.append(traceback.format_exception_only(type(exc), exc)[-1].strip())


def _total_lag(ep: Endpoints, group: str, topic: str) -> int | None:
    with contextlib.suppress(KafkaException, TimeoutError):
        rows = metrics.kafka_group_lag(ep, group, topic, timeout=5)
        return sum(row.lag for row in rows)
    return None


def _group_state(admin: AdminClient, group: str) -> str:
    with contextlib.suppress(KafkaException, TimeoutError):
        described = admin.describe_consumer_groups([group], request_timeout=5)[group].result(timeout=10)
        return "EMPTY" if not described.members else described.state.name
    return "UNKNOWN"


def run_live(fn: Callable[..., Any], s: Scenario, ep: Endpoints) -> LiveRun:
    """Write the scenario's records, run ``s.members`` copies of ``fn``, measure the lag to 0."""
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000}))
    run_id = uuid.uuid4().hex[:8]
    topic, group = ns(f"lab01-exercise-{run_id}"), ns(f"lab01-exercise-group-{run_id}")
    admin.create_topics([NewTopic(topic, num_partitions=s.partitions)])[topic].result(timeout=20)
    run, lock, stop = LiveRun(), threading.Lock(), threading.Event()
    threads: list[threading.Thread] = []
    try:
        records = [Record(p, uuid.uuid4().hex.encode()) for p, n in enumerate(s.per_partition)
                   for _ in range(n)]
        run.written = {r.value for r in records}
        kafka_records.write(ep, topic, records, FIX)
        config = ep.kafka_config(**{"group.id": group, "session.timeout.ms": 6000})
        t0 = time.monotonic()
        for i in range(s.members):
            handle = _handler(run, s.work_s, lock)
            threads.append(threading.Thread(target=_member, name=f"learner-member-{i}", daemon=True,
                                            args=(fn, dict(config), topic, handle, stop, run)))
            threads[-1].start()
        deadline = t0 + s.deadline_s()
        while time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.5)
            lag = _total_lag(ep, group, topic)
            if lag is not None:
                run.lag_samples.append(lag)
                if lag == 0 and sum(run.handled.values()) >= s.total:
                    run.drain_seconds = time.monotonic() - t0
                    break
        stop.set()
        for t in threads:
            t.join(STOP_GRACE)
        run.still_running = sum(t.is_alive() for t in threads)
        run.final_lag = _total_lag(ep, group, topic)
        empty_by = time.monotonic() + EMPTY_WAIT
        run.group_state = _group_state(admin, group)
        while run.group_state not in ("EMPTY", "DEAD") and time.monotonic() < empty_by:
            time.sleep(0.5)
            run.group_state = _group_state(admin, group)
        return run
    finally:
        stop.set()
        cleanup.discard_kafka(admin, [topic], [group])


def judge(fb: Feedback, s: Scenario, run: LiveRun) -> None:
    """One expectation per property; every hint says what to change, never a number to paste."""
    if run.errors:
        if run.errors[0] == "NotImplementedError":
            fb.expect(False, "", "Not attempted yet: replace `raise NotImplementedError` with your code "
                                 "and run the cell again.")
        else:
            fb.expect(False, "", f"Your function raised: {run.errors[0]} — read the message, fix the line it "
                                 "names, and run the cell again.")
        return
    handled = set(run.handled)
    fb.expect(len(handled) == s.total and handled == run.written,
              f"Every one of the {s.total} records was handed to handle() "
              f"({sum(run.handled.values()) - len(handled)} twice).",
              f"handle() saw {len(handled)} distinct records of the {s.total} written. Subscribe to the "
              "topic, poll() (or consume()) in a loop until stop is set, and call handle(msg) for every "
              "message without an error (msg.error() is None).")
    lag = run.final_lag
    fb.expect(lag == 0 and run.drain_seconds is not None,
              f"The broker reports lag 0 on all {s.partitions} partitions, {run.drain_seconds or 0:.1f} s "
              f"after the members started (largest lag seen: {max(run.lag_samples, default=0)} records).",
              f"The broker still reports a lag of {lag} record(s) after {s.deadline_s():.0f} s: the group's "
              "committed offsets do not follow what you handled. Commit after handling "
              "(consumer.commit(message=msg) or a commit() per batch), or leave enable.auto.commit on and "
              "close() the consumer, which commits its last offsets."
              if lag else
              f"The group did not handle every record within {s.deadline_s():.0f} s. Does every copy of your "
              "function keep polling until stop is set?")
    fb.expect(run.still_running == 0,
              "Every member returned soon after stop was set.",
              f"{run.still_running} member(s) were still running {STOP_GRACE:g} s after stop was set. Check "
              "stop.is_set() in your loop and poll with a short timeout (e.g. poll(0.5)).")
    fb.expect(run.group_state in ("EMPTY", "DEAD"),
              "The group is empty afterwards: every member left it with close().",
              f"After your members returned, the group is still {run.group_state}: a member that does not "
              "call consumer.close() stays in the group until its session times out, holding its partitions. "
              "close() it in a finally: block.")


def check_drain(fn: Callable[[dict, str, Callable[[Any], None], threading.Event], None],
                ep: Endpoints | None = None, seed: int | None = None) -> CheckResult:
    """Run ``fn`` as the members of a group on a fresh scenario; judge what the broker reports."""
    ep = ep or endpoints()
    fb = Feedback(EXERCISE)
    fb.record = not is_reference(fn)  # a reference solution's run is never the learner's progress
    s = Scenario.draw(seed)
    print(f"Scenario {s.describe()}; deadline {s.deadline_s():.0f} s")
    run = run_live(fn, s, ep)
    judge(fb, s, run)
    return fb.result()

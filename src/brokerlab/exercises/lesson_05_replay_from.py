"""Checker for notebook 05's exercise: replay ``n`` records of one partition from a chosen offset.

The learner writes ``replay_from(config, topic, partition, offset, n) -> list[bytes]``. Each attempt
draws a fresh scenario from a seed the checker prints: how many partitions, how many records in
each, random payloads (nothing in a value says where it lives) and the slices asked for. The checker
creates a fresh topic, writes the scenario to it, asks for the slices and explains what went wrong
without showing the expected values: nothing read (``subscribe()`` with ``auto.offset.reset=latest``),
a start off by k, records of another partition, too many or too few, values it never wrote.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.brokers import cleanup
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import seeds
from brokerlab.settings import Endpoints, ns
from brokerlab.settings import endpoints as current_endpoints

EXERCISE = "lesson_05_replay_from"
CALL_TIMEOUT = 30.0
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."

CHECKPOINTS = (
    Checkpoint(
        "lesson_05_checkpoint_rabbitmq_order",
        "One RabbitMQ queue, two competing consumers, one of them nacks with requeue=True. "
        "Which messages are processed out of publish order?",
        frozenset({"b"}),
        "Only redeliveries: a requeued message goes back near the head and is processed after "
        "later messages that were already on their way. One queue with one consumer keeps FIFO order.",
        "Look at the colours in section 2's plot: which dots lie below the diagonal?",
        {"a": "none: a queue is FIFO whatever the consumers do",
         "b": "only messages that were redelivered (redelivered=True)",
         "c": "any message: RabbitMQ has no ordering at all"}),
    Checkpoint(
        "lesson_05_checkpoint_replay_start",
        "A brand-new consumer group subscribe()s to a topic that already holds 1,000 records, with "
        "the default settings. How many of those records does it read?",
        frozenset({"c"}),
        "None: a group with no committed offset starts where auto.offset.reset says, and the default "
        "'latest' is the end of each partition. To replay, assign() a partition at an offset.",
        "Which setting decides where a group without a committed offset starts, and what is its default?",
        {"a": "all 1,000, from offset 0", "b": "those not yet read by another group",
         "c": "none: it waits for new records"}),
)


@dataclass(frozen=True)
class Scenario:
    """One attempt's topic layout and questions, drawn from ``seed``."""

    seed: int
    partitions: int
    records: dict[int, list[bytes]]  # partition → the value at each offset
    cases: tuple[tuple[int, int, int], ...]  # (partition, offset, n) asked for, in order

    def describe(self) -> str:
        sizes = ", ".join(f"p{p}: {len(v)}" for p, v in self.records.items())
        asks = "; ".join(f"partition {p} from offset {o}, {n} records" for p, o, n in self.cases)
        return f"seed {self.seed}: {self.partitions} partitions ({sizes} records); asks {asks}"


def scenario(seed: int) -> Scenario:
    """The scenario for ``seed``: 2–5 partitions of 15–40 random 12-byte values, two slices asked
    for (of different partitions, never starting at offset 0)."""
    rng = random.Random(seed)
    partitions = rng.randint(2, 5)
    records = {p: [rng.randbytes(6).hex().encode() for _ in range(rng.randint(15, 40))]
               for p in range(partitions)}
    cases = []
    for partition in rng.sample(range(partitions), 2):
        size = len(records[partition])
        n = rng.randint(3, 7)
        cases.append((partition, rng.randint(1, size - n - 1), n))
    return Scenario(seed, partitions, records, tuple(cases))



def _prepare(ep: Endpoints, topic: str, plan: Scenario) -> None:
    """Create ``topic`` and write the scenario's records, each at its planned offset."""
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000, "log_level": 4}))
    try:
        admin.create_topics([NewTopic(topic, num_partitions=plan.partitions)],
                            operation_timeout=10)[topic].result(timeout=20)
    except KafkaException as exc:
        raise BrokerlabError(f"The checker could not create its topic {topic!r}: {exc}", FIX) from None
    producer = Producer(ep.kafka_config(**{"acks": "all", "enable.idempotence": True,
                                           "message.timeout.ms": 15000}))
    failures: list[object] = []
    placed: dict[int, dict[int, bytes]] = {p: {} for p in plan.records}

    def on_delivery(err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            failures.append(err)
        else:
            placed[msg.partition()][msg.offset()] = msg.value()

    for partition, values in plan.records.items():
        for value in values:  # idempotent producer: in order, no duplicates, so value i lands at offset i
            producer.produce(topic, value=value, partition=partition, on_delivery=on_delivery)
    remaining = producer.flush(20)
    if failures or remaining or any(placed[p] != dict(enumerate(v)) for p, v in plan.records.items()):
        raise BrokerlabError(f"The checker could not write its records to {topic!r} "
                             f"({failures[:1] or f'{remaining} undelivered'}).", FIX)


def _cleanup(ep: Endpoints, topic: str, group: str) -> None:
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000, "log_level": 4}))
    cleanup.discard_kafka(admin, [topic], [group])


def _where(plan: Scenario, value: bytes) -> tuple[int, int] | None:
    """(partition, offset) of a value the checker wrote, None for anything else."""
    for partition, values in plan.records.items():
        if value in values:
            return partition, values.index(value)
    return None


def _diagnose(fb: Feedback, plan: Scenario, got: object, partition: int, offset: int, n: int) -> bool:
    """One expectation for one call: the exact slice, or the most specific hint that fits. A hint
    describes the mistake (where the records came from) and never shows the expected values."""
    want = plan.records[partition][offset:offset + n]
    call = f"replay_from(config, topic, partition={partition}, offset={offset}, n={n})"
    if not isinstance(got, list) or not all(isinstance(v, bytes) for v in got):
        return fb.expect(False, "", f"{call} returned {type(got).__name__}"
                                    f"{'' if not isinstance(got, list) else ' with non-bytes items'}: "
                                    "return a list of the records' values, msg.value() (bytes).")
    if got == want:
        return fb.expect(True, f"{call} → {n} records, exactly offsets {offset}..{offset + n - 1} of "
                               f"partition {partition}", "")
    if not got:
        return fb.expect(False, "", f"{call} returned no records. A new group that subscribe()s starts "
                                    "where auto.offset.reset says, 'latest' by default: the END of the "
                                    "partition, so it waits for new records. To replay, "
                                    "consumer.assign([TopicPartition(topic, partition, offset)]) and poll() "
                                    "until you have n records (the first polls may return None).")
    places = [_where(plan, v) for v in got]
    if None in places:
        return fb.expect(False, "", f"{call} returned {places.count(None)} of {len(got)} value(s) the "
                                    "checker never wrote in this attempt's topic. Each attempt writes new "
                                    "random values: return what you read from Kafka, msg.value(), not "
                                    "values you typed or kept from an earlier run.")
    partitions = sorted({p for p, _ in places if p is not None})
    if partitions != [partition]:
        return fb.expect(False, "", f"{call} returned records from partition(s) {partitions}, expected only "
                                    f"partition {partition}. Did you ignore the partition argument? Use "
                                    "TopicPartition(topic, partition, offset).")
    offsets = [place[1] for place in places if place is not None]
    first = offsets[0]
    contiguous = offsets == list(range(first, first + len(offsets)))
    if first != offset and contiguous:
        return fb.expect(False, "", f"{call} started at offset {first}, not {offset} (off by "
                                    f"{first - offset:+d}). The offset in TopicPartition(topic, partition, "
                                    "offset) is the FIRST record you get: no +1, no skipping.")
    if contiguous and len(got) != n:
        return fb.expect(False, "", f"{call} returned {len(got)} record(s) from the right start, expected "
                                    f"exactly {n}. Stop once you have n (and poll until you do).")
    return fb.expect(False, "", f"{call} returned records of the right partition but not in offset order "
                                f"(offsets {offsets[:8]}{' …' if len(offsets) > 8 else ''}): keep them in "
                                "the order poll() returns them, from the start offset on.")


def check_replay_from(fn: Callable[..., Any], endpoints: Endpoints | None = None,
                      timeout: float = CALL_TIMEOUT, seed: int | None = None) -> CheckResult:
    """Run the learner's ``replay_from`` against a fresh random scenario on the live Kafka; never
    raises for a wrong or unattempted answer (only when the broker itself is unreachable).

    ``seed`` replays one scenario (tests, or a learner reproducing a failure); by default each
    attempt draws a new one. A reference solution's run is never recorded as progress."""
    ep = endpoints or current_endpoints()
    plan = scenario(seeds.announce(EXERCISE, seed))
    print(f"scenario {plan.describe()}")
    fb = Feedback(EXERCISE)
    token = uuid.uuid4().hex[:8]
    topic = ns(f"05-replay-check-{token}")
    group = ns(f"05-replay-check-{token}")
    _prepare(ep, topic, plan)
    try:
        for partition, offset, n in plan.cases:
            config = ep.kafka_config(**{"group.id": group})
            start = time.monotonic()
            ok, got = fb.call_bounded(fn, config, topic, partition, offset, n, timeout=timeout,
                                     hang_hint="Bound the loop: poll(0.5) until you have n records OR a "
                                               "deadline of a few seconds passes.")
            if not ok or not _diagnose(fb, plan, got, partition, offset, n):
                break
            fb.lines[-1] += f" in {time.monotonic() - start:.1f} s"
    finally:
        _cleanup(ep, topic, group)
    return fb.result()

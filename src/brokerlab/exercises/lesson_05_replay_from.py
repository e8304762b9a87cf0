"""Checker for notebook 05's exercise: replay ``n`` records of one partition from a chosen offset.

The learner writes ``replay_from(config, topic, partition, offset, n) -> list[bytes]``. The checker
creates a fresh topic, produces known records to every partition (each value names its own
partition and offset, ``b"p1-o7"``), asks for a few slices and explains what went wrong: nothing
read (``subscribe()`` with ``auto.offset.reset=latest``), an off-by-one start, the wrong partition,
too many or too few records.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.brokers import cleanup
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints, ns
from brokerlab.settings import endpoints as current_endpoints

EXERCISE = "lesson_05_replay_from"
PARTITIONS = 3
RECORDS_PER_PARTITION = 20
# (partition, offset, n): a slice in the middle of a partition that is not partition 0, then another.
CASES: tuple[tuple[int, int, int], ...] = ((1, 7, 5), (2, 12, 4))
CALL_TIMEOUT = 30.0
_VALUE = re.compile(rb"^p(\d+)-o(\d+)$")
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."


def value(partition: int, offset: int) -> bytes:
    """The value the checker writes at ``partition``/``offset``: it names its own place."""
    return f"p{partition}-o{offset}".encode()


def _prepare(ep: Endpoints, topic: str) -> None:
    """Create ``topic`` and fill every partition with RECORDS_PER_PARTITION known records."""
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000, "log_level": 4}))
    try:
        admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS)],
                            operation_timeout=10)[topic].result(timeout=20)
    except KafkaException as exc:
        raise BrokerlabError(f"The checker could not create its topic {topic!r}: {exc}", FIX) from None
    producer = Producer(ep.kafka_config(**{"acks": "all", "enable.idempotence": True,
                                           "message.timeout.ms": 15000}))
    failures: list[object] = []
    placed: dict[int, list[int]] = {p: [] for p in range(PARTITIONS)}

    def on_delivery(err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            failures.append(err)
        else:
            placed[msg.partition()].append(msg.offset())

    for offset in range(RECORDS_PER_PARTITION):
        for partition in range(PARTITIONS):
            # A fresh topic: the record produced n-th to a partition lands at offset n.
            producer.produce(topic, value=value(partition, offset), partition=partition,
                             on_delivery=on_delivery)
    remaining = producer.flush(20)
    expected = list(range(RECORDS_PER_PARTITION))
    if failures or remaining or any(sorted(offs) != expected for offs in placed.values()):
        raise BrokerlabError(f"The checker could not write its records to {topic!r} "
                             f"({failures[:1] or f'{remaining} undelivered'}).", FIX)


def _cleanup(ep: Endpoints, topic: str, group: str) -> None:
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000, "log_level": 4}))
    cleanup.discard_kafka(admin, [topic], [group])


def _describe(values: list[bytes]) -> str:
    shown = ", ".join(v.decode(errors="replace") for v in values[:4])
    return f"[{shown}{', …' if len(values) > 4 else ''}]"


def _diagnose(fb: Feedback, got: object, partition: int, offset: int, n: int) -> bool:
    """One expectation for one call: the exact slice, or the most specific hint that fits."""
    want = [value(partition, o) for o in range(offset, offset + n)]
    call = f"replay_from(config, topic, partition={partition}, offset={offset}, n={n})"
    if not isinstance(got, list) or not all(isinstance(v, bytes) for v in got):
        return fb.expect(False, "", f"{call} returned {type(got).__name__}"
                                    f"{'' if not isinstance(got, list) else ' with non-bytes items'}: "
                                    "return a list of the records' values, msg.value() (bytes).")
    if got == want:
        return fb.expect(True, f"{call} → {_describe(got)}: exactly offsets {offset}..{offset + n - 1} "
                               f"of partition {partition}", "")
    if not got:
        return fb.expect(False, "", f"{call} returned no records (expected {_describe(want)}). A new group "
                                    "that subscribe()s starts where auto.offset.reset says, 'latest' by "
                                    "default: the END of the partition, so it waits for new records. To "
                                    "replay, consumer.assign([TopicPartition(topic, partition, offset)]) "
                                    "and poll() until you have n records (the first polls may return None).")
    places = [(int(m[1]), int(m[2])) if (m := _VALUE.match(v)) else None for v in got]
    if None in places:
        return fb.expect(False, "", f"{call} returned values the checker never wrote: {_describe(got)}.")
    partitions = sorted({p for p, _ in places if p is not None})
    if partitions != [partition]:
        return fb.expect(False, "", f"{call} returned records from partition(s) {partitions}, expected only "
                                    f"partition {partition}: got {_describe(got)}. Did you ignore the "
                                    "partition argument? Use TopicPartition(topic, partition, offset).")
    first = places[0][1] if places[0] else offset
    if first != offset and got == [value(partition, o) for o in range(first, first + len(got))]:
        return fb.expect(False, "", f"{call} started at offset {first}, expected {offset} (off by "
                                    f"{first - offset:+d}): got {_describe(got)}. The offset in "
                                    "TopicPartition(topic, partition, offset) is the FIRST record you get: "
                                    "no +1, no skipping.")
    if len(got) != n and got[:n] == want[:len(got)]:
        return fb.expect(False, "", f"{call} returned {len(got)} record(s), expected exactly {n}: "
                                    f"{_describe(want)}. Stop once you have n (and poll until you do).")
    return fb.expect(False, "", f"{call} returned {_describe(got)}, expected {_describe(want)}.")


def check_replay_from(fn: Callable[..., Any], endpoints: Endpoints | None = None,
                      timeout: float = CALL_TIMEOUT, record: bool = True) -> CheckResult:
    """Run the learner's ``replay_from`` against known records on the live Kafka; never raises for a
    wrong or unattempted answer (only when the broker itself is unreachable).

    ``record=False`` (for the reference solution) leaves the learner's progress file alone.
    """
    ep = endpoints or current_endpoints()
    fb = Feedback(EXERCISE, record=record)
    token = uuid.uuid4().hex[:8]
    topic = ns(f"05-replay-check-{token}")
    group = ns(f"05-replay-check-{token}")
    _prepare(ep, topic)
    try:
        for partition, offset, n in CASES:
            config = ep.kafka_config(**{"group.id": group})
            start = time.monotonic()
            ok, got = fb.call_bounded(fn, config, topic, partition, offset, n, timeout=timeout,
                                     hang_hint="Bound the loop: poll(0.5) until you have n records OR a "
                                               "deadline of a few seconds passes.")
            if not ok or not _diagnose(fb, got, partition, offset, n):
                break
            fb.lines[-1] += f" in {time.monotonic() - start:.1f} s"
    finally:
        _cleanup(ep, topic, group)
    return fb.result()

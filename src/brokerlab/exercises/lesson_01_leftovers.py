"""Checker of notebook 01's exercise: after everyone has consumed, what is still stored where?

``check_leftovers(fn)`` builds a situation on the live brokers whose answer it knows, then asks
``fn(topic, queue)`` for ``(kafka_stored, rabbitmq_stored)``:

- Kafka: a topic with two partitions and a random number of records in each; the first records of
  partition 0 are deleted (its low watermark is above 0); a consumer group reads *everything* and
  commits. The log keeps what was consumed: stored = Σ (high − low watermark).
- RabbitMQ: a queue with a random number of messages; a consumer takes some and acks them (gone),
  another takes some and does not ack them yet (delivered, still in the queue until acked), the
  rest were never delivered. Stored = ready + unacknowledged.

It also checks that ``fn`` only *looked*: the group's commits and the queue's ready count must be
the same before and after the call. Each attempt draws its numbers, payloads and names fresh from a
seed it prints (``check_leftovers(fn, seed=N)`` builds the same situation again); a hint explains
the mistake and never states the right count.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future

import pika
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.brokers import cleanup
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import kafka_records, seeds
from brokerlab.exercises.kafka_records import Record
from brokerlab.observe import queuestats
from brokerlab.settings import Endpoints, amqp_parameters, endpoints, ns

EXERCISE = "lesson_01_leftovers"
PARTITIONS = 2
FIX = "Check the brokers with `brokerlab status` and start them with `brokerlab up`."

CHECKPOINTS: tuple[Checkpoint, ...] = (
    Checkpoint(
        "lesson_01_checkpoint_after_commit",
        "A consumer group has read every record of a Kafka topic and committed. What happens to "
        "the records in the topic?",
        frozenset({"b"}),
        "A log keeps its records whoever has read them; the commit only stores the group's next "
        "offset. Records go by retention (or delete_records), so any other group can read them all.",
        "Look at the watermarks before and after the group consumed in section 2a, and at what the "
        "second group read.",
        {"a": "Kafka deletes them, because every group that exists has read them",
         "b": "nothing: they stay until retention deletes them, and another group can read them all",
         "c": "they move into __consumer_offsets, beside the group's commit"}),
    Checkpoint(
        "lesson_01_checkpoint_prefetch",
        "A RabbitMQ consumer with basic_qos(prefetch_count=5) holds 5 unacked messages; 30 more wait "
        "in the queue. It acks 2 of them. How many more messages does the broker send it now?",
        frozenset({"b", "2"}),
        "prefetch_count is a credit of unacked messages: each ack frees one slot, and the broker "
        "fills it at once, so 2 acks let exactly 2 more through.",
        "prefetch_count limits how many messages may be delivered and not yet acked at one time.",
        {"a": "none until all 5 are acked", "b": "2", "c": "5"}),
)


class _Situation:
    """The topic, the group, the queue, the checker's own connections and the true numbers."""

    def __init__(self, ep: Endpoints, rng: random.Random) -> None:
        self.ep = ep
        run = uuid.uuid4().hex[:8]
        self.topic = ns(f"ex01-leftovers-{run}")
        self.group = ns(f"ex01-leftovers-group-{run}")
        self.queue = ns(f"ex01-leftovers-{run}")
        self.produced = [rng.randint(12, 20), rng.randint(6, 12)]
        self.deleted = rng.randint(2, 5)  # records removed from the start of partition 0
        self.acked = rng.randint(4, 8)  # RabbitMQ: delivered and acknowledged
        self.unacked = rng.randint(2, 4)  # delivered, not acknowledged (yet)
        self.ready = rng.randint(3, 7)  # never delivered
        self.rng = rng  # payloads, after the counts: the same seed gives the same situation
        self.admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 10000}))
        self.params = amqp_parameters(ep.rabbitmq_url)
        self.connection: pika.BlockingConnection | None = None

    def payload(self) -> bytes:
        return self.rng.randbytes(self.rng.randint(4, 48))

    @property
    def kafka_stored(self) -> int:
        return sum(self.produced) - self.deleted

    @property
    def published(self) -> int:
        return self.acked + self.unacked + self.ready

    @property
    def rabbitmq_stored(self) -> int:
        return self.unacked + self.ready

    # --- Kafka ------------------------------------------------------------------------------------

    def build_kafka(self) -> None:
        futures = self.admin.create_topics([NewTopic(self.topic, num_partitions=PARTITIONS)],
                                           operation_timeout=10)
        _wait(futures[self.topic], f"create topic {self.topic}")
        kafka_records.write(self.ep, self.topic, (Record(partition, self.payload())
                                                  for partition, count in enumerate(self.produced)
                                                  for _ in range(count)), FIX)
        deleted = self.admin.delete_records([TopicPartition(self.topic, 0, self.deleted)],
                                            request_timeout=10, operation_timeout=10)
        for future in deleted.values():
            _wait(future, f"delete the first records of {self.topic}[0]")
        self._consume_everything()

    def _consume_everything(self) -> None:
        """The group reads every stored record and commits, as a consumer that processed them."""
        ends = {0: self.produced[0], 1: self.produced[1]}
        seen = {0: -1, 1: -1}
        consumer = Consumer(self.ep.kafka_config(**{"group.id": self.group,
                                                    "enable.auto.commit": False}))
        try:
            consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in ends])
            deadline = time.monotonic() + 20
            while any(seen[p] < ends[p] - 1 for p in ends) and time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is not None and msg.error() is None:
                    seen[msg.partition()] = max(seen[msg.partition()], msg.offset())
            if any(seen[p] < ends[p] - 1 for p in ends):
                raise BrokerlabError(f"The checker could not read back its records from {self.topic}.",
                                     FIX)
            consumer.commit(offsets=[TopicPartition(self.topic, p, n) for p, n in ends.items()],
                            asynchronous=False)
        finally:
            consumer.close()

    def committed(self) -> list[int]:
        """The group's committed offset per partition."""
        consumer = Consumer(self.ep.kafka_config(**{"group.id": self.group,
                                                    "enable.auto.commit": False}))
        try:
            parts = consumer.committed([TopicPartition(self.topic, p) for p in range(PARTITIONS)],
                                       timeout=10)
            return [tp.offset for tp in sorted(parts, key=lambda tp: tp.partition)]
        finally:
            consumer.close()

    # --- RabbitMQ ---------------------------------------------------------------------------------

    def build_rabbitmq(self) -> None:
        """Publish, ack some, hold some unacked on a channel that stays open during the check."""
        try:
            self.connection = pika.BlockingConnection(self.params)
            channel = self.connection.channel()
            channel.queue_declare(self.queue)
            channel.confirm_delivery()
            for _ in range(self.published):
                channel.basic_publish("", self.queue, self.payload())
            for _ in range(self.acked):
                method, _props, _body = channel.basic_get(self.queue)
                if method is None:
                    raise BrokerlabError(f"The checker found queue {self.queue} empty too early.", FIX)
                channel.basic_ack(method.delivery_tag)
            holder = self.connection.channel()
            holder.basic_qos(prefetch_count=self.unacked)
            held: list[int] = []
            holder.basic_consume(self.queue, lambda _ch, method, _p, _b: held.append(method.delivery_tag))
            deadline = time.monotonic() + 10
            while len(held) < self.unacked and time.monotonic() < deadline:
                self.connection.process_data_events(time_limit=0.1)
        except pika.exceptions.AMQPError as exc:
            raise BrokerlabError(f"The checker could not set up queue {self.queue}: {exc!r}.", FIX) from None
        if len(held) != self.unacked:
            raise BrokerlabError(f"The checker's consumer received {len(held)} messages, expected "
                                 f"{self.unacked}.", FIX)
        # The management API samples its counters every few seconds: wait until it is up to date,
        # so that an answer built on it is judged on the true numbers.
        queuestats.wait_for(
            self.queue, lambda c: (c["messages"], c["messages_unacknowledged"])
            == (self.rabbitmq_stored, self.unacked),
            f"{self.rabbitmq_stored} messages, {self.unacked} unacknowledged", self.ep, timeout=30)

    def ready_now(self) -> int:
        """Messages ready in the queue, asked of the queue itself (passive declare, no staleness)."""
        assert self.connection is not None
        self.connection.process_data_events(time_limit=0)
        return self.connection.channel().queue_declare(self.queue, passive=True).method.message_count

    # --- Clean up ---------------------------------------------------------------------------------

    def remove(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(pika.exceptions.AMQPError):
                self.connection.channel().queue_delete(self.queue)
            with contextlib.suppress(pika.exceptions.AMQPError):
                self.connection.close()
        cleanup.discard_kafka(self.admin, [self.topic], [self.group])


def _wait(future: Future, what: str) -> object:
    try:
        return future.result(timeout=20)
    except (KafkaException, TimeoutError) as exc:
        raise BrokerlabError(f"The checker could not {what}: {exc}.", FIX) from None


def _as_pair(fb: Feedback, value: object) -> tuple[int, int] | None:
    ok = (isinstance(value, tuple | list) and len(value) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) for v in value))
    fb.expect(ok, f"your function returned {tuple(value) if ok else value!r}",  # type: ignore[arg-type]
              f"Return a tuple of two ints (kafka_stored, rabbitmq_stored); your function returned "
              f"{value!r}.")
    return (int(value[0]), int(value[1])) if ok else None  # type: ignore[index]


def _kafka_hint(got: int, s: _Situation) -> str:
    if got == 0:
        return ("Kafka: you returned 0, which is what the group has left to read (it read everything). "
                "But consuming does not remove records from a log: they stay until retention deletes "
                "them. Count what the partitions still hold: Σ over the partitions of (high − low "
                "watermark).")
    if got == sum(s.produced):
        return (f"Kafka: {got} is every record ever produced (the sum of the high watermarks). The "
                "first records of partition 0 were deleted: its low watermark is above 0. "
                "Stored = Σ (high − low).")
    if got in (s.produced[0] - s.deleted, s.produced[1], s.produced[0]):
        return (f"Kafka: {got} counts one partition only; count every partition of the topic "
                "(consumer.list_topics(topic).topics[topic].partitions).")
    return (f"Kafka: {got} is not what the topic stores now. Count Σ over the partitions of high − low, "
            "from consumer.get_watermark_offsets.")


def _rabbit_hint(got: int, s: _Situation) -> str:
    if got == s.ready:
        return (f"RabbitMQ: {got} counts only the *ready* messages (what a passive queue_declare or "
                "messages_ready reports). Some more were delivered to a consumer that has not "
                "acked them yet: the queue still holds them, and would deliver them again if that "
                "consumer died. A queue removes a message on ack. Count ready + unacknowledged "
                "(the management API's 'messages').")
    if got == s.published:
        return (f"RabbitMQ: {got} is every message ever published, but some were acked and are "
                "gone from the queue.")
    if got == s.unacked:
        return (f"RabbitMQ: {got} counts only the unacknowledged messages; others are ready "
                "(never delivered) and still in the queue too.")
    return (f"RabbitMQ: {got} is not what the queue holds now. Count the messages still in it: "
            "ready + unacknowledged.")


def check_leftovers(fn: Callable[[str, str], tuple[int, int]], ep: Endpoints | None = None,
                    seed: int | None = None, record: bool = True) -> CheckResult:
    """Check ``fn(topic, queue) -> (kafka_stored, rabbitmq_stored)`` against the live brokers, on
    a situation drawn from ``seed`` (printed; random when None)."""
    fb = Feedback(EXERCISE, record=record)
    seed = seeds.announce(EXERCISE, seed)
    s = _Situation(ep or endpoints(), random.Random(seed))
    try:
        s.build_kafka()
        s.build_rabbitmq()
        committed, ready = s.committed(), s.ready_now()
        ran, value = fb.call(fn, s.topic, s.queue)
        if ran:
            committed_after, ready_after = s.committed(), s.ready_now()
            pair = _as_pair(fb, value)
            if pair is not None:
                kafka, rabbit = pair
                fb.expect(kafka == s.kafka_stored,
                          f"Kafka: {kafka} records still stored, although the group read them all",
                          _kafka_hint(kafka, s))
                fb.expect(rabbit == s.rabbitmq_stored,
                          f"RabbitMQ: {rabbit} messages still in the queue ({s.ready} ready + "
                          f"{s.unacked} delivered but not acked; the {s.acked} acked ones are gone)",
                          _rabbit_hint(rabbit, s))
            fb.expect(committed_after == committed, "the group's committed offsets were left alone",
                      "Your function changed the group's committed offsets. Counting must not "
                      "consume: do not subscribe() or commit with the group; ask "
                      "get_watermark_offsets() instead.")
            fb.expect(ready_after == ready, "the queue's ready messages were left alone",
                      "The queue's ready count changed while your function ran: it consumed some "
                      "(basic_get / basic_consume with an ack removes them — in a queue, reading is "
                      "removing). Ask the management API for the counts instead.")
    finally:
        s.remove()
    return fb.result()

"""Lab 03 exercise: a producer configuration that loses no acknowledged write when the leader dies.

The learner writes ``reliable_producer_config() -> dict``: confluent-kafka producer settings
(without ``bootstrap.servers``). The checker reads the settings, then runs them LIVE on the 3-node
cluster (replication factor 3, ``min.insync.replicas=2``): a producer writes numbered records as
fast as it can, the partition leader is killed (SIGKILL) two seconds in, the producer carries on,
the dead broker is restarted, and every record left in the partition is read back. It counts:

- acknowledged ids that are not in the partition (lost acknowledged writes),
- ids whose delivery failed (the producer gave up, e.g. during the election),
- ids stored more than once (duplicates from retries without idempotence).

A pass needs zero of all three AND settings that guarantee it in general, not only in this run:
``acks=all`` (``-1``), ``enable.idempotence=true``, retries not switched off, and a delivery
timeout long enough to ride out a leader election. Loss with ``acks=1`` is possible but not certain
in one run, so the settings are judged as well as the outcome.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.brokers.cluster import Cluster
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.settings import ns

EXERCISE = "lab_03_acks_and_replication"
FIX = "Check the cluster with `brokerlab cluster status`; repair it with `brokerlab cluster up`."
PRODUCE_SECONDS = 6.0  # the producer runs this long
KILL_AFTER = 2.0  # seconds into producing, the leader is killed
MIN_DELIVERY_TIMEOUT_MS = 10_000  # a delivery timeout must outlast an election (a few seconds here)
MAX_FLUSH = 60.0


@dataclass
class LiveRun:
    """What one live run counted."""

    sent: int = 0
    acked: set[int] = field(default_factory=set)
    failed: Counter[str] = field(default_factory=Counter)
    stored: Counter[int] = field(default_factory=Counter)
    unflushed: int = 0
    leader: int = 0
    new_leader: int = 0
    election_seconds: float = 0.0
    error: str | None = None

    @property
    def lost_acked(self) -> list[int]:
        return sorted(i for i in self.acked if i not in self.stored)

    @property
    def duplicated(self) -> list[int]:
        return sorted(i for i, n in self.stored.items() if n > 1)


def active_controller(lab: Cluster) -> int | None:
    """The KRaft quorum leader (the active controller) as the nodes record it, if readable."""
    for node in lab.kafka_nodes:
        with contextlib.suppress(OSError, ValueError, KeyError):
            state = json.loads((node.data / "__cluster_metadata-0" / "quorum-state").read_text())
            if state["leaderId"] >= 0:
                return int(state["leaderId"])
    return None


def wait_for_brokers(admin: AdminClient, count: int = 3, timeout: float = 60.0) -> None:
    """Wait until ``count`` brokers are registered (a restarted broker is back in the metadata)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(KafkaException):
            if len(admin.list_topics(timeout=5).brokers) >= count:
                return
        time.sleep(0.5)
    raise BrokerlabError(f"The cluster did not list {count} brokers within {timeout:.0f} s.", FIX)


def wait_for_isr(admin: AdminClient, topic: str, size: int, timeout: float = 60.0) -> bool:
    """Wait until partition 0 of ``topic`` has ``size`` in-sync replicas; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(KafkaException, KeyError):
            if len(admin.list_topics(topic, timeout=5).topics[topic].partitions[0].isrs) == size:
                return True
        time.sleep(0.3)
    return False


def read_ids(bootstrap: str, topic: str, timeout: float = 30.0) -> Counter[int]:
    """Every id stored in partition 0 of ``topic``, with how many times it is there."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-reader", "log_level": 0,
                         "enable.auto.commit": False, "enable.partition.eof": True})
    stored: Counter[int] = Counter()
    try:
        deadline = time.monotonic() + 15
        while True:  # right after a leader change the first answer can be NOT_LEADER_FOR_PARTITION
            try:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=2)
                break
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        consumer.assign([TopicPartition(topic, 0, low)])
        deadline = time.monotonic() + timeout
        seen = 0
        while seen < high - low and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=10000, timeout=0.5):
                if msg.error() is None:
                    seen += 1
                    stored[int(msg.value())] += 1
    finally:
        consumer.close()
    return stored


def _produce(conf: dict, topic: str, run: LiveRun, stop: threading.Event) -> None:
    try:
        producer = Producer(conf)
    except KafkaException as exc:
        run.error = f"Producer(...) refused your settings: {exc.args[0].str()}"
        return

    def on_delivery(err: KafkaError | None, msg: Any) -> None:
        if err is None:
            run.acked.add(int(msg.value()))
        else:
            run.failed[err.name()] += 1

    i = 0
    while not stop.is_set():
        try:
            producer.produce(topic, value=str(i).encode(), on_delivery=on_delivery)
            i += 1
        except BufferError:  # the local queue is full (e.g. during the election): wait a little
            producer.poll(0.05)
            continue
        producer.poll(0)
        if i % 100 == 0:
            time.sleep(0.01)  # at most ~10 000 records/s: heavy load, with CPU left for the brokers
    run.sent = i
    deadline = time.monotonic() + MAX_FLUSH
    while producer.flush(1) and time.monotonic() < deadline:
        pass
    run.unflushed = len(producer)


def run_live(conf: dict, lab: Cluster | None = None) -> LiveRun:
    """Produce with ``conf`` on a fresh RF-3 topic, kill its leader, restart it, count the ids."""
    lab = lab or Cluster()
    if lab.unhealthy():
        lab.up()
    admin = AdminClient({"bootstrap.servers": lab.bootstrap_servers, "log_level": 0,
                         "socket.timeout.ms": 5000})
    wait_for_brokers(admin)
    controller = active_controller(lab)
    leader_id = next(n.node_id for n in lab.kafka_nodes if n.node_id != controller)
    replicas = [leader_id, *(n.node_id for n in lab.kafka_nodes if n.node_id != leader_id)]
    topic = ns(f"lab03-exercise-{uuid.uuid4().hex[:8]}")
    admin.create_topics([NewTopic(topic, num_partitions=1, replica_assignment=[replicas])])[topic].result(
        timeout=20)
    run = LiveRun(leader=leader_id)
    victim = lab.kafka_node(leader_id)
    try:
        lab.wait_for_kafka_leader(topic)
        if not wait_for_isr(admin, topic, 3, 30):
            raise BrokerlabError(f"The checker's topic {topic!r} did not get 3 in-sync replicas.", FIX)
        producer_conf = {**conf, "bootstrap.servers": lab.bootstrap_servers, "log_level": 0}
        stop = threading.Event()
        thread = threading.Thread(target=_produce, args=(producer_conf, topic, run, stop), daemon=True)
        thread.start()
        time.sleep(KILL_AFTER)
        if run.error:  # the settings were refused: nothing to kill for
            thread.join(5)
            return run
        t0 = time.monotonic()
        victim.kill()
        run.new_leader = lab.wait_for_kafka_leader(topic, not_on=victim, timeout=60).node_id
        run.election_seconds = time.monotonic() - t0
        time.sleep(max(0.0, PRODUCE_SECONDS - KILL_AFTER - run.election_seconds))
        stop.set()
        thread.join(MAX_FLUSH + 10)
        victim.start()
        wait_for_brokers(admin)
        wait_for_isr(admin, topic, 3, 60)
        run.stored = read_ids(lab.bootstrap_servers, topic)
        return run
    finally:
        if not victim.is_alive():
            with contextlib.suppress(BrokerlabError):
                victim.start()
        with contextlib.suppress(KafkaException, TimeoutError):
            admin.delete_topics([topic], operation_timeout=15)[topic].result(timeout=20)


def _setting(conf: dict, *names: str) -> Any:
    for name in names:
        if name in conf:
            return conf[name]
    return None


def judge_settings(fb: Feedback, conf: dict) -> None:
    """The settings that guarantee no loss of acknowledged writes, and no duplicates, in general."""
    acks = str(_setting(conf, "acks", "request.required.acks")).lower()
    fb.expect(acks in ("all", "-1"),
              "acks=all: the leader acknowledges only once every in-sync replica (at least "
              "min.insync.replicas = 2 here) has the record.",
              f"acks={acks}: " + ("the leader acknowledges as soon as IT has the record. If it dies "
                                  "before a follower copied it, the new leader never had it: an "
                                  "acknowledged write is lost. Use acks='all'." if acks in ("1", "none")
                                  else "the producer does not wait for any broker (or acks is not set: "
                                       "check the spelling). Use acks='all'."))
    idempotence = str(_setting(conf, "enable.idempotence")).lower()
    fb.expect(idempotence == "true",
              "enable.idempotence=true: retries cannot store a record twice or out of order.",
              "enable.idempotence is not true: when the leader dies, records whose acknowledgement was "
              "lost are sent again and can be stored TWICE. Set 'enable.idempotence': True (it also "
              "forces acks=all and safe retries).")
    retries = _setting(conf, "retries", "message.send.max.retries")
    fb.expect(retries is None or int(retries) > 0,
              "Retries are on: a write to a dead leader is sent again to the new one.",
              f"retries={retries}: a record in flight when the leader dies fails at once instead of "
              "going to the new leader. Leave retries at their default (they are bounded by "
              "delivery.timeout.ms).")
    timeout = _setting(conf, "delivery.timeout.ms", "message.timeout.ms")
    fb.expect(timeout is None or int(timeout) == 0 or int(timeout) >= MIN_DELIVERY_TIMEOUT_MS,
              "The delivery timeout leaves time for a leader election.",
              f"delivery.timeout.ms={timeout}: the producer gives up on a record after "
              f"{int(timeout) / 1000 if timeout is not None else 0:g} s, shorter than a leader election "
              f"can take (noticing the dead broker alone takes 3 s here, 9 s with Kafka's defaults). "
              f"Use at least {MIN_DELIVERY_TIMEOUT_MS} ms (the default is 300000).")


def judge_run(fb: Feedback, run: LiveRun) -> None:
    """What actually happened to every id in the live run."""
    if run.error:
        fb.expect(False, "", run.error)
        return
    summary = (f"{run.sent} records sent, leader broker {run.leader} killed after {KILL_AFTER:g} s, "
               f"new leader broker {run.new_leader} after {run.election_seconds:.1f} s")
    lost = run.lost_acked
    fb.expect(not lost,
              f"Live: {summary}; all {len(run.acked)} acknowledged records are in the partition.",
              f"Live: {summary}; {len(lost)} ACKNOWLEDGED records are not in the partition (e.g. ids "
              f"{lost[:5]}): the producer was told 'stored', and they are gone.")
    failed = sum(run.failed.values()) + run.unflushed
    fb.expect(failed == 0,
              "Live: no delivery failed: the producer rode out the election.",
              f"Live: {failed} deliveries failed ({dict(run.failed)}"
              + (f", {run.unflushed} never delivered" if run.unflushed else "")
              + "). Your producer gave up while the cluster elected a new leader; those records are not "
                "lost silently, but your application has to handle every failure. Let the producer "
                "retry for long enough (retries on, delivery.timeout.ms well above the election time).")
    dup = run.duplicated
    fb.expect(not dup,
              "Live: no record is stored twice.",
              f"Live: {len(dup)} records are stored twice (e.g. ids {dup[:5]}): their acknowledgement was "
              "lost with the leader, the producer sent them again, and both copies were kept. "
              "'enable.idempotence': True lets the broker drop such repeats.")


def check_reliable_producer(fn: Callable[[], dict], lab: Cluster | None = None) -> CheckResult:
    """Judge the learner's producer settings, then run them while the partition leader is killed."""
    fb = Feedback(EXERCISE)
    ok, conf = fb.call(fn)
    if not ok:
        return fb.result()
    if not isinstance(conf, dict):
        fb.expect(False, "", f"Return a dict of producer settings, e.g. {{'acks': 'all', ...}}; your "
                             f"function returned {type(conf).__name__}: {conf!r}.")
        return fb.result()
    try:
        judge_settings(fb, conf)
    except (TypeError, ValueError) as exc:
        fb.expect(False, "", f"A setting has a value that is not a number where one is needed: {exc}.")
        return fb.result()
    judge_run(fb, run_live(conf, lab))
    return fb.result()

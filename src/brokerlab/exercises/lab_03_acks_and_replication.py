"""Lab 03 exercise: a producer configuration that loses no acknowledged write when the leader dies.

The learner writes ``reliable_producer_config() -> dict``: confluent-kafka producer settings
(without ``bootstrap.servers``). The checker reads the settings, then runs them LIVE on the 3-node
cluster (replication factor 3, ``min.insync.replicas=2``): a producer writes numbered records as
fast as it can, the partition leader is killed (SIGKILL) two seconds in, the producer carries on,
the dead broker is restarted, and every record left in the partition is read back. Each attempt
draws its own scenario from a seed it prints (when the leader dies, where the ids start, the payload
size), so no run's numbers fit another. It counts:

- acknowledged ids that are not in the partition (lost acknowledged writes),
- ids whose delivery failed (the producer gave up, e.g. during the election),
- ids stored more than once (duplicates from retries without idempotence).

A pass needs zero of all three AND settings that guarantee it in general, not only in this run:
``acks=all`` (``-1``; left unset it is what ``enable.idempotence=true`` makes librdkafka use),
``enable.idempotence=true``, retries not switched off, and a delivery timeout long enough to ride
out a leader election. Loss with ``acks=1`` is possible but not certain in one run, so the settings
are judged as well as the outcome. And the run must have done the work: records sent, records
acknowledged after the kill (not only before), and the producing thread ended cleanly (a
``produce()`` that raises, e.g. with ``transactional.id`` but no transaction, is a failure with
the exception's last line, never a pass).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import traceback
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
from brokerlab.exercises import seeds
from brokerlab.settings import ns
from brokerlab.waiting import wait_for

EXERCISE = "lab_03_acks_and_replication"
FIX = "Check the cluster with `brokerlab cluster status`; repair it with `brokerlab cluster up`."
PRODUCE_SECONDS = 6.0  # the producer runs this long
KILL_AFTER = (1.5, 3.0)  # seconds into producing, the leader is killed: drawn per attempt
MIN_DELIVERY_TIMEOUT_MS = 10_000  # a delivery timeout must outlast an election (a few seconds here)
MAX_FLUSH = 60.0


@dataclass(frozen=True)
class Scenario:
    """One attempt's draw: when the leader dies, the first id, the payload padding."""

    seed: int
    kill_after: float
    first_id: int
    padding: int

    @classmethod
    def draw(cls, seed: int | None = None) -> Scenario:
        seed, rng = seeds.draw(EXERCISE, seed)
        return cls(seed, round(rng.uniform(*KILL_AFTER), 2), rng.randrange(10**6), rng.randrange(0, 200))

    def describe(self) -> str:
        return (f"seed {self.seed}: leader killed {self.kill_after:g} s into producing, ids from "
                f"{self.first_id}, {self.padding} bytes of padding per record")


@dataclass
class LiveRun:
    """What one live run counted."""

    scenario: Scenario = field(default_factory=Scenario.draw)
    sent: int = 0
    sent_at_kill: int | None = None
    acked: set[int] = field(default_factory=set)
    failed: Counter[str] = field(default_factory=Counter)
    stored: Counter[int] = field(default_factory=Counter)
    unflushed: int = 0
    leader: int = 0
    new_leader: int = 0
    election_seconds: float = 0.0
    error: str | None = None
    thread_alive: bool = False

    @property
    def acked_after_kill(self) -> int:
        """Acknowledged ids that were produced after the leader was killed."""
        if self.sent_at_kill is None:
            return 0
        first = self.scenario.first_id + self.sent_at_kill
        return sum(1 for i in self.acked if i >= first)

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
    wait_for(lambda: len(admin.list_topics(timeout=5).brokers) >= count, timeout, 0.5,
             retry_on=(KafkaException,), fix=FIX,
             problem=f"The cluster did not list {count} brokers within {timeout:.0f} s.")


def wait_for_isr(admin: AdminClient, topic: str, size: int, timeout: float = 60.0) -> bool:
    """Wait until partition 0 of ``topic`` has ``size`` in-sync replicas; False on timeout."""
    return bool(wait_for(
        lambda: len(admin.list_topics(topic, timeout=5).topics[topic].partitions[0].isrs) == size,
        timeout, 0.3, retry_on=(KafkaException, KeyError)))


def read_ids(bootstrap: str, topic: str, timeout: float = 30.0) -> Counter[int]:
    """Every id stored in partition 0 of ``topic``, with how many times it is there."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-reader", "log_level": 0,
                         "enable.auto.commit": False, "enable.partition.eof": True})
    stored: Counter[int] = Counter()
    try:
        # Right after a leader change the first answer can be NOT_LEADER_FOR_PARTITION.
        low, high = wait_for(lambda: consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=2),
                             15, 0.3, retry_on=(KafkaException,),
                             problem=lambda last: f"No leader of {topic!r} answered within 15 s ({last}).",
                             fix="Check the cluster with `brokerlab cluster status`.")
        consumer.assign([TopicPartition(topic, 0, low)])
        deadline = time.monotonic() + timeout
        seen = 0
        while seen < high - low and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=10000, timeout=0.5):
                if msg.error() is None:
                    seen += 1
                    stored[int(msg.value().split(b" ")[0])] += 1
    finally:
        consumer.close()
    return stored


def _produce(conf: dict, topic: str, run: LiveRun, stop: threading.Event) -> None:
    """The learner's settings at work; whatever the client raises ends up in ``run.error``."""
    try:
        _produce_until(conf, topic, run, stop)
    except Exception as exc:  # the learner's settings made the client fail: report its last line
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        run.error = (f"The producer thread died after {run.sent} records: {last}. "
                     + ("Your settings start a transactional producer (transactional.id): every "
                        "produce() must then sit inside init_transactions()/begin_transaction()/"
                        "commit_transaction(). This exercise needs no transaction: leave "
                        "transactional.id out." if "transactional.id" in conf else
                        "Read the error: which setting does it name?"))


def _produce_until(conf: dict, topic: str, run: LiveRun, stop: threading.Event) -> None:
    try:
        producer = Producer(conf)
    except KafkaException as exc:
        run.error = f"Producer(...) refused your settings: {exc.args[0].str()}"
        return

    def on_delivery(err: KafkaError | None, msg: Any) -> None:
        if err is None:
            run.acked.add(int(msg.value().split(b" ")[0]))
        else:
            run.failed[err.name()] += 1

    pad = b" " + b"x" * run.scenario.padding
    i = 0
    while not stop.is_set():
        try:
            producer.produce(topic, value=str(run.scenario.first_id + i).encode() + pad,
                             on_delivery=on_delivery)
            i += 1
            run.sent = i
        except BufferError:  # the local queue is full (e.g. during the election): wait a little
            producer.poll(0.05)
            continue
        producer.poll(0)
        if i % 100 == 0:
            time.sleep(0.01)  # at most ~10 000 records/s: heavy load, with CPU left for the brokers
    deadline = time.monotonic() + MAX_FLUSH
    while producer.flush(1) and time.monotonic() < deadline:
        pass
    run.unflushed = len(producer)


def run_live(conf: dict, lab: Cluster | None = None, scenario: Scenario | None = None) -> LiveRun:
    """Produce with ``conf`` on a fresh RF-3 topic, kill its leader, restart it, count the ids."""
    scenario = scenario or Scenario.draw()
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
    run = LiveRun(scenario=scenario, leader=leader_id)
    victim = lab.kafka_node(leader_id)
    try:
        lab.wait_for_kafka_leader(topic)
        if not wait_for_isr(admin, topic, 3, 30):
            raise BrokerlabError(f"The checker's topic {topic!r} did not get 3 in-sync replicas.", FIX)
        producer_conf = {**conf, "bootstrap.servers": lab.bootstrap_servers, "log_level": 0}
        stop = threading.Event()
        thread = threading.Thread(target=_produce, args=(producer_conf, topic, run, stop), daemon=True)
        thread.start()
        time.sleep(scenario.kill_after)
        if run.error or not thread.is_alive():  # the settings were refused or the thread died
            thread.join(5)
            return run
        t0 = time.monotonic()
        run.sent_at_kill = run.sent
        victim.kill()
        run.new_leader = lab.wait_for_kafka_leader(topic, not_on=victim, timeout=60).node_id
        run.election_seconds = time.monotonic() - t0
        time.sleep(max(0.0, PRODUCE_SECONDS - scenario.kill_after - run.election_seconds))
        stop.set()
        thread.join(MAX_FLUSH + 10)
        run.thread_alive = thread.is_alive()
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
    idempotence = str(_setting(conf, "enable.idempotence")).lower()
    if acks == "none" and idempotence == "true":
        acks = "all"  # librdkafka: idempotence requires acks=all and sets it when acks is not given
        fb.expect(True, "acks not set: enable.idempotence=true makes the producer use acks=all, so the "
                        "leader acknowledges only once every in-sync replica (at least "
                        "min.insync.replicas = 2 here) has the record.", "")
    else:
        fb.expect(acks in ("all", "-1"),
                  "acks=all: the leader acknowledges only once every in-sync replica (at least "
                  "min.insync.replicas = 2 here) has the record.",
                  f"acks={acks}: " + ("the leader acknowledges as soon as IT has the record. If it dies "
                                      "before a follower copied it, the new leader never had it: an "
                                      "acknowledged write is lost. Use acks='all'." if acks in ("1", "none")
                                      else "the producer does not wait for any broker (or acks is not set: "
                                           "check the spelling). Use acks='all'."))
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
    """What actually happened to every id in the live run; an empty or crashed run never passes."""
    if run.error:
        fb.expect(False, "", run.error)
        return
    summary = (f"{run.sent} records sent, leader broker {run.leader} killed after "
               f"{run.scenario.kill_after:g} s, new leader broker {run.new_leader} after "
               f"{run.election_seconds:.1f} s")
    worked = (run.sent > 0 and run.sent_at_kill is not None and run.sent_at_kill > 0
              and run.acked_after_kill > 0 and not run.thread_alive)
    fb.expect(worked,
              f"Live: your producer did the work: {run.acked_after_kill} records produced after the kill "
              "were acknowledged, and its thread ended cleanly.",
              f"Live: {summary}, but the run did no real work: "
              + ("nothing was sent before the kill" if not run.sent_at_kill else
                 "the producer thread did not finish (flush() never returned)" if run.thread_alive else
                 f"no record produced after the kill was acknowledged ({len(run.acked)} acknowledged in "
                 "all)")
              + ". A reliable producer keeps getting records stored through the election.")
    # Failed deliveries are reported whether or not the run did work: a delivery timeout shorter
    # than the election can expire every record produced after the kill, and that is the reason.
    failed = sum(run.failed.values()) + run.unflushed
    if worked or failed:
        fb.expect(failed == 0,
                  "Live: no delivery failed: the producer rode out the election.",
                  f"Live: {failed} deliveries failed ({dict(run.failed)}"
                  + (f", {run.unflushed} never delivered" if run.unflushed else "")
                  + "). Your producer gave up while the cluster elected a new leader; those records are "
                    "not lost silently, but your application has to handle every failure. Let the "
                    "producer retry for long enough (retries on, delivery.timeout.ms well above the "
                    "election time).")
    if not worked:
        return
    lost = run.lost_acked
    fb.expect(not lost,
              f"Live: {summary}; all {len(run.acked)} acknowledged records are in the partition.",
              f"Live: {summary}; {len(lost)} ACKNOWLEDGED records are not in the partition (e.g. ids "
              f"{lost[:5]}): the producer was told 'stored', and they are gone.")
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
    scenario = Scenario.draw()
    print(f"Scenario {scenario.describe()}")
    judge_run(fb, run_live(conf, lab, scenario))
    return fb.result()

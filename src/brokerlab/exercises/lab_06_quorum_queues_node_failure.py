"""Lab 06 exercise: declare a queue that keeps its confirmed messages when a node dies.

The learner writes ``declare_queue(channel, name)``. Each attempt draws its own scenario from a
seed it prints: the queue's name, the node the learner's channel is connected to, the node the
checker publishes through, how many messages and their ids. The checker calls the learner's
function, publishes the messages persistent with publisher confirms, then **kills** (SIGKILL) the
node that hosts the queue (a classic queue's home node, a quorum queue's or a stream's leader) and
tries to consume every message from a surviving node within ``CONSUME_TIMEOUT`` seconds.
Afterwards it restarts the node, waits until the cluster is healthy again and deletes the queue.

Two queue types pass: a **quorum queue** and a **stream**. Both are replicated (Raft for the
quorum queue, the stream's own replication for a stream) and keep confirmed messages when a
minority of their members dies. They differ in what consuming means: a quorum queue removes a
message once it is acknowledged, a stream keeps it (readers track an offset).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import pika
import requests
from pika.exceptions import AMQPError

from brokerlab import settings
from brokerlab.brokers.cluster import AUTH, Cluster
from brokerlab.brokers.management import Management, api_path
from brokerlab.brokers.rabbitmq_native import RabbitNode
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import seeds
from brokerlab.observe import workers
from brokerlab.settings import amqp_parameters
from brokerlab.waiting import wait_for

EXERCISE = "lab_06_quorum_queues_node_failure"
CONSUME_TIMEOUT = 15.0
HEALTHY_TIMEOUT = 90.0
MEMBERS_TIMEOUT = 10.0  # how long the management API may take to list a new queue's members
REPLICATED = ("quorum", "stream")  # the queue types that keep their messages when a node dies


@dataclass(frozen=True)
class Scenario:
    """One attempt: the queue's name, which nodes the checker talks to, and the messages."""

    seed: int
    queue: str
    declare_on: int  # index of the node the learner's channel is connected to
    publish_on: int  # index of the node the checker publishes through
    ids: tuple[str, ...]


def new_scenario(seed: int | None = None) -> Scenario:
    """Draw a scenario (printing its seed): a fresh queue name, two different nodes, 30-80 ids."""
    seed, rng = seeds.draw(EXERCISE, seed)
    declare_on, publish_on = rng.sample(range(3), 2)
    return Scenario(seed, settings.ns(f"lab06-exercise-{seeds.token(rng)}"), declare_on, publish_on,
                    tuple(f"m-{seeds.token(rng)}" for _ in range(rng.randint(30, 80))))


def queue_info(management_url: str, queue: str) -> dict | None:
    """The management API's record of ``queue`` (None when it does not exist)."""
    return Management(management_url, AUTH).find(api_path("queues", "/", queue))


def leader_of(info: dict) -> str | None:
    """The node that leads a replicated queue: ``leader`` for a quorum queue; a stream (3.10)
    reports its leader (the writer) as ``node``."""
    return info.get("leader") if info.get("type") == "quorum" else info.get("leader") or info.get("node")


def wait_healthy(lab: Cluster, queue: str | None = None, timeout: float = HEALTHY_TIMEOUT) -> dict:
    """Wait until all RabbitMQ nodes run (and ``queue``, if given and replicated, has a leader and
    every member online, twice in a row); returns that snapshot: seconds, running, queue."""
    start = time.monotonic()
    before = {"good": False}

    def settled() -> dict | None:
        before["good"], good_before = False, before["good"]  # an error below counts as not good
        api = lab.management_url()
        nodes = Management(api, AUTH, timeout=3).get("/api/nodes")
        running = sum(1 for n in nodes if n.get("running"))
        info = queue_info(api, queue) if queue else None
        queue_ok = (info is None or info.get("type") not in REPLICATED
                    or (bool(leader_of(info))
                        and sorted(info.get("online", [])) == sorted(info.get("members", []))))
        before["good"] = running == len(lab.rabbit_nodes) and queue_ok
        if before["good"] and good_before:  # the same answer twice, 0.5 s apart: settled
            return {"seconds": time.monotonic() - start, "running": running, "queue": info}
        return None

    return wait_for(settled, timeout, 0.5, retry_on=(BrokerlabError, requests.RequestException, ValueError),
                    problem=f"The RabbitMQ cluster did not become healthy within {timeout:.0f} s.",
                    fix="Check it with `brokerlab cluster status`; restart it with `brokerlab cluster up`.")


def start_missing(lab: Cluster) -> list[str]:
    """Start (or resume) every RabbitMQ node that is down; returns their names."""
    started = []
    for node in lab.rabbit_nodes:
        if node.process() is None:
            node.start()
            started.append(node.name)
        elif not node.is_alive():
            node.resume()
            started.append(node.name)
    return started


def _consume_all(url: str, queue: str, kind: str, expected: int, ledger: workers.Ledger) -> None:
    """Worker: read everything from ``queue``; ledger gets 'got:<id>' lines or 'error:<text>'.

    A queue is drained with basic_get; a stream has no basic_get, so it is read with a consumer
    from its first offset until ``expected`` messages arrived."""
    try:
        with pika.BlockingConnection(amqp_parameters(url, blocked_timeout=10)) as connection:
            channel = connection.channel()
            if kind == "stream":
                _read_stream(connection, channel, queue, expected, ledger)
            while kind != "stream":
                method, properties, _body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    break
                ledger.record(f"got:{properties.message_id}")
        ledger.record("done:")
    except Exception as exc:  # reported as feedback
        ledger.record("error:" + quote(f"{type(exc).__name__}: {exc}"))  # one ledger line, no spaces


def _read_stream(connection: Any, channel: Any, queue: str, expected: int, ledger: workers.Ledger) -> None:
    got = 0

    def on_message(ch: Any, method: Any, properties: Any, _body: bytes) -> None:
        nonlocal got
        got += 1
        ledger.record(f"got:{properties.message_id}")
        ch.basic_ack(method.delivery_tag)

    channel.basic_qos(prefetch_count=100)  # a stream consumer needs a prefetch
    channel.basic_consume(queue, on_message, arguments={"x-stream-offset": "first"})
    while got < expected:
        connection.process_data_events(time_limit=0.5)


def check_survives_node_loss(declare_queue: Callable[[Any, str], None],
                             lab: Cluster | None = None, seed: int | None = None) -> CheckResult:
    """Declare with the learner's function, kill the queue's node, consume from a survivor; the
    scenario is drawn from ``seed`` (fresh when None)."""
    lab = lab or Cluster()
    sc = new_scenario(seed)
    queue = sc.queue
    print(f"  queue {queue!r}, declared through node {sc.declare_on + 1}, {len(sc.ids)} messages "
          f"published through node {sc.publish_on + 1}")
    fb = Feedback(EXERCISE)
    start_missing(lab)
    wait_healthy(lab)
    others = [n for i, n in enumerate(lab.rabbit_nodes) if i != sc.declare_on]
    killed: RabbitNode | None = None
    try:
        declare_url = lab.amqp_urls[sc.declare_on]
        with pika.BlockingConnection(amqp_parameters(declare_url, blocked_timeout=10)) as connection:
            ok, _ = fb.call(declare_queue, connection.channel(), queue)
        if not ok:
            return fb.result()
        info = queue_info(others[0].management_url, queue)
        if info is None:
            fb.expect(False, "", f"No queue named {queue!r} exists after your function ran: declare the "
                                 "queue whose name you were given.")
            return fb.result()
        kind = info.get("type", "classic")
        if kind in REPLICATED:
            wait_healthy(lab, queue, timeout=30)
            info = queue_info(others[0].management_url, queue) or info
        published = _publish(lab.amqp_urls[sc.publish_on], queue, sc.ids)
        if isinstance(published, str):
            fb.expect(False, "", f"The checker could not publish to your queue: {published}")
            return fb.result()
        if kind in REPLICATED:
            info = _settled_members(lab, others[0].management_url, queue, info)
        host_name = leader_of(info)
        killed = next(n for n in lab.rabbit_nodes if n.nodename == host_name)
        survivor = next(n for n in lab.rabbit_nodes if n is not killed)
        killed.kill()
        errors: list[str] = []
        if kind in REPLICATED:
            members = info.get("members") or []
            left = [m for m in members if m != killed.nodename]
            if members and 2 * len(left) <= len(members):  # Raft elects only with a majority of members
                errors.append(f"no member of the queue became leader: {len(left)} of its {len(members)} "
                              "member(s) survived, and a leader needs a majority of them")
            else:
                try:
                    lab.wait_for_quorum_leader(queue, not_on=killed, timeout=CONSUME_TIMEOUT)
                except BrokerlabError:
                    errors.append(f"no member of the queue became leader within {CONSUME_TIMEOUT:.0f} s")
        ledger = workers.Ledger()
        if not errors:
            consumer = workers.start(_consume_all, f"amqp://guest:guest@127.0.0.1:{survivor.port}/%2F",
                                     queue, kind, len(published), ledger, name="lab06-check-consumer")
            deadline = time.monotonic() + CONSUME_TIMEOUT
            while consumer.is_alive() and time.monotonic() < deadline:
                time.sleep(0.2)
            consumer.kill()
        got = {i[4:] for i in ledger.items() if i.startswith("got:")}
        errors += [unquote(i[6:]) for i in ledger.items() if i.startswith("error:")]
        _judge(fb, kind, info, killed, survivor, published, got, errors)
        return fb.result()
    finally:
        if killed is not None:
            start_missing(lab)
            wait_healthy(lab)
        _delete(lab, queue)


def _settled_members(lab: Cluster, management_url: str, queue: str, info: dict,
                     timeout: float = MEMBERS_TIMEOUT) -> dict:
    """The queue's record once it lists a member on every node, or after ``timeout`` s: a stream's
    replicas start after the declaration and the management API's statistics list them a few
    seconds later."""
    if len(info.get("members") or []) >= len(lab.rabbit_nodes):
        return info
    return wait_for(lambda: _with_every_member(lab, queue_info(management_url, queue)), timeout, 0.5) or info


def _with_every_member(lab: Cluster, info: dict | None) -> dict | None:
    return info if info and len(info.get("members") or []) >= len(lab.rabbit_nodes) else None


def _publish(url: str, queue: str, ids: tuple[str, ...]) -> list[str] | str:
    try:
        with pika.BlockingConnection(amqp_parameters(url, blocked_timeout=10)) as connection:
            channel = connection.channel()
            channel.confirm_delivery()
            for message_id in ids:
                channel.basic_publish("", queue, message_id.encode(),
                                      pika.BasicProperties(message_id=message_id, delivery_mode=2))
    except AMQPError as exc:
        return repr(exc)
    return ids


def _judge(fb: Feedback, kind: str, info: dict, killed: RabbitNode, survivor: RabbitNode,
           published: list[str], got: set[str], errors: list[str]) -> None:
    members = info.get("members") or [info.get("node")]
    error = errors[0] if errors else f"no answer within {CONSUME_TIMEOUT:.0f} s"
    fb.expect(kind in REPLICATED,
              f"The queue is a {'quorum queue' if kind == 'quorum' else kind}, replicated on "
              f"{len(members)} node(s).",
              f"The queue is a {kind} queue. A classic queue lives on one node, its home node "
              f"({killed.nodename} here); with that node down the survivor answered: {error}. "
              "Declare a replicated queue type instead: a quorum queue or a stream "
              "(durable=True, arguments={'x-queue-type': ...}).")
    if kind in REPLICATED:
        size = "x-quorum-initial-group-size" if kind == "quorum" else "x-initial-cluster-size"
        fb.expect(len(members) >= 3,
                  f"Its members: {', '.join(sorted(members))}.",
                  f"The {kind} has only {len(members)} member(s) ({', '.join(members)}): with {size} "
                  f"below 3, losing {killed.nodename} left no majority of its members. Leave {size} "
                  "unset (on this cluster the queue then gets a member on every node) or set it to 3.")
    missing = [m for m in published if m not in got]
    fb.expect(not missing,
              f"After {killed.nodename} was killed, all {len(published)} confirmed messages were "
              f"consumed from {survivor.nodename}.",
              f"After {killed.nodename} was killed, {len(published) - len(missing)} of {len(published)} "
              f"confirmed messages could be consumed from {survivor.nodename} ({error}).")


def _delete(lab: Cluster, queue: str) -> None:
    try:
        with pika.BlockingConnection(amqp_parameters(lab.amqp_urls[1], blocked_timeout=10)) as connection:
            connection.channel().queue_delete(queue)
    except AMQPError:
        pass

"""Lab 06 exercise: declare a queue that keeps its confirmed messages when a node dies.

The learner writes ``declare_queue(channel, name)``. The checker calls it on a channel connected
to the first node of the course's 3-node cluster, publishes ``MESSAGES`` persistent messages with
publisher confirms through another node, then **kills** (SIGKILL) the node that hosts the queue
(a classic queue's home node, a quorum queue's leader) and tries to consume every message from a
surviving node within ``CONSUME_TIMEOUT`` seconds. Afterwards it restarts the node, waits until
the cluster is healthy again and deletes the queue.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

import pika
import requests
from pika.exceptions import AMQPError

from brokerlab import settings
from brokerlab.brokers.cluster import AUTH, Cluster
from brokerlab.brokers.rabbitmq_native import RabbitNode
from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.observe import workers
from brokerlab.settings import amqp_parameters

EXERCISE = "lab_06_quorum_queues_node_failure"
MESSAGES = 50
CONSUME_TIMEOUT = 15.0
HEALTHY_TIMEOUT = 90.0


def queue_info(management_url: str, queue: str) -> dict | None:
    """The management API's record of ``queue`` (None when it does not exist)."""
    reply = requests.get(f"{management_url}/api/queues/%2F/{quote(queue, safe='')}", auth=AUTH, timeout=5)
    return None if reply.status_code == 404 else reply.json()


def wait_healthy(lab: Cluster, queue: str | None = None, timeout: float = HEALTHY_TIMEOUT) -> dict:
    """Wait until all RabbitMQ nodes run (and ``queue``, if given and quorum, has a leader and
    every member online, twice in a row); returns that snapshot: seconds, running, queue."""
    start = time.monotonic()
    deadline = start + timeout
    good_before = False
    while time.monotonic() < deadline:
        try:
            api = lab.management_url()
            nodes = requests.get(f"{api}/api/nodes", auth=AUTH, timeout=3).json()
            running = sum(1 for n in nodes if n.get("running"))
            info = queue_info(api, queue) if queue else None
            queue_ok = (info is None or info.get("type") != "quorum"
                        or (bool(info.get("leader"))
                            and sorted(info.get("online", [])) == sorted(info.get("members", []))))
            good = running == len(lab.rabbit_nodes) and queue_ok
            if good and good_before:  # the same answer twice, 0.5 s apart: settled
                return {"seconds": time.monotonic() - start, "running": running, "queue": info}
            good_before = good
        except (BrokerlabError, requests.RequestException, ValueError):
            good_before = False
        time.sleep(0.5)
    raise BrokerlabError(f"The RabbitMQ cluster did not become healthy within {timeout:.0f} s.",
                         "Check it with `brokerlab cluster status`; restart it with `brokerlab cluster up`.")


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


def _consume_all(url: str, queue: str, ledger: workers.Ledger) -> None:
    """Worker: basic_get everything from ``queue``; ledger gets 'got:<id>' lines or 'error:<text>'."""
    try:
        with pika.BlockingConnection(amqp_parameters(url, blocked_timeout=10)) as connection:
            channel = connection.channel()
            while True:
                method, properties, _body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    break
                ledger.record(f"got:{properties.message_id}")
        ledger.record("done:")
    except Exception as exc:  # reported as feedback
        ledger.record("error:" + quote(f"{type(exc).__name__}: {exc}"))  # one ledger line, no spaces


def check_survives_node_loss(declare_queue: Callable[[Any, str], None],
                             lab: Cluster | None = None) -> CheckResult:
    """Declare with the learner's function, kill the queue's node, consume from a survivor."""
    lab = lab or Cluster()
    fb = Feedback(EXERCISE)
    start_missing(lab)
    wait_healthy(lab)
    queue = settings.ns(f"lab06-exercise-{uuid.uuid4().hex[:8]}")
    others = lab.rabbit_nodes[1:]
    killed: RabbitNode | None = None
    try:
        with pika.BlockingConnection(amqp_parameters(lab.amqp_urls[0], blocked_timeout=10)) as connection:
            ok, _ = fb.call(declare_queue, connection.channel(), queue)
        if not ok:
            return fb.result()
        info = queue_info(others[0].management_url, queue)
        if info is None:
            fb.expect(False, "", f"No queue named {queue!r} exists after your function ran: declare the "
                                 "queue whose name you were given.")
            return fb.result()
        kind = info.get("type", "classic")
        if kind == "quorum":
            wait_healthy(lab, queue, timeout=30)
            info = queue_info(others[0].management_url, queue) or info
        published = _publish(lab.amqp_urls[1], queue)
        if isinstance(published, str):
            fb.expect(False, "", f"The checker could not publish to your queue: {published}")
            return fb.result()
        host_name = info.get("leader") or info.get("node")
        killed = next(n for n in lab.rabbit_nodes if n.nodename == host_name)
        survivor = next(n for n in lab.rabbit_nodes if n is not killed)
        killed.kill()
        errors: list[str] = []
        if kind == "quorum":
            try:
                lab.wait_for_quorum_leader(queue, not_on=killed, timeout=CONSUME_TIMEOUT)
            except BrokerlabError:
                errors.append(f"no member of the queue became leader within {CONSUME_TIMEOUT:.0f} s")
        ledger = workers.Ledger()
        if not errors:
            consumer = workers.start(_consume_all, f"amqp://guest:guest@127.0.0.1:{survivor.port}/%2F",
                                     queue, ledger, name="lab06-check-consumer")
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


def _publish(url: str, queue: str) -> list[str] | str:
    ids = [f"m{i}" for i in range(MESSAGES)]
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
    fb.expect(kind == "quorum",
              f"The queue is a quorum queue, replicated on {len(members)} node(s).",
              f"The queue is a {kind} queue. A classic queue lives on one node, its home node "
              f"({killed.nodename} here); with that node down the survivor answered: {error}. "
              "Declare it with durable=True and arguments={'x-queue-type': 'quorum'}.")
    if kind == "quorum":
        fb.expect(len(members) >= 3,
                  f"Its members: {', '.join(sorted(members))}.",
                  f"The quorum queue has only {len(members)} member(s) ({', '.join(members)}): with "
                  f"x-quorum-initial-group-size below 3, losing {killed.nodename} left no majority. "
                  "Leave x-quorum-initial-group-size unset (on this cluster a quorum queue then gets "
                  "a member on every node) or set it to 3.")
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

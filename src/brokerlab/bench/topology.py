"""Create and delete the benchmark's topics and queues (one per configuration, namespaced)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence

import pika
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.error import KafkaError

from brokerlab.bench.payload import HEADER, SENTINEL
from brokerlab.bench.rabbit_load import connection_parameters
from brokerlab.bench.workload import Workload
from brokerlab.brokers import cleanup
from brokerlab.brokers.management import Management
from brokerlab.errors import BrokerlabError
from brokerlab.observe import topics
from brokerlab.settings import Endpoints, ns
from brokerlab.waiting import wait_for

FIX = "Check the brokers: `brokerlab status` (start them: `brokerlab up`)."


_CREATED: set[str] = set()


def unique_name(prefix: str) -> str:
    """A namespaced name that no other run uses: ``<ns>bench-<prefix>-<8 hex>`` (remembered, so
    :func:`leftovers` can check that everything made in this process was deleted)."""
    name = ns(f"bench-{prefix}-{uuid.uuid4().hex[:8]}")
    _CREATED.add(name)
    return name


def leftovers(ep: Endpoints) -> list[str]:
    """Topics, queues and consumer groups named by this process that still exist on the brokers."""
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 5000, "log_level": 0}))
    found = set(admin.list_topics(timeout=10).topics)
    with contextlib.suppress(KafkaException, TimeoutError):
        groups = admin.list_consumer_groups(request_timeout=10).result(timeout=15)
        found |= {g.group_id for g in groups.valid}
    found |= {q["name"] for q in Management.of(ep).get("/api/queues")}
    return sorted(_CREATED & found)


def topic_config(w: Workload) -> dict[str, str]:
    """Topic-level settings the workload needs (``flush.messages=1`` for D2)."""
    return {"flush.messages": str(w.flush_messages)} if w.flush_messages else {}


def create_topic(ep: Endpoints, name: str, config: dict[str, str] | None = None,
                 partitions: int = 1, replication: int = 1) -> None:
    """One partition, replication 1 by default (the same topology as one queue); waits until
    every partition has a leader."""
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 5000, "log_level": 0}))
    topic = NewTopic(name, partitions, replication, config=config or {})
    futures = admin.create_topics([topic], operation_timeout=10)
    try:
        futures[name].result(timeout=15)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise BrokerlabError(f"Could not create topic {name}: {exc}", FIX) from exc
    topics.wait_until_led(admin, name, partitions)


def discard_kafka(ep: Endpoints, topics: Sequence[str] = (), groups: Sequence[str] = ()) -> None:
    """Delete the benchmark's topics and consumer groups (ignores ones already gone)."""
    if topics or groups:
        admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": 5000, "log_level": 0}))
        cleanup.discard_kafka(admin, topics, groups)


def queue_arguments(w: Workload) -> dict[str, str]:
    return {"x-queue-type": w.queue_type}


def declare_queue(ep: Endpoints, name: str, w: Workload) -> None:
    """A queue of the workload's type and durability."""
    declare_queues(ep, [name], w)


def declare_queues(ep: Endpoints, names: Sequence[str], w: Workload, ready_check: bool = False) -> None:
    """Queues of the workload's type and durability, over one connection. ``ready_check``: then
    publish one end marker to each and wait for its confirm, so that a run starts on queues that
    already accept writes (a new stream or quorum queue starts its log first). Only for runs with
    no consumer: the marker stays in the queue."""
    with pika.BlockingConnection(connection_parameters(ep.rabbitmq_url)) as conn:
        channel = conn.channel()
        for name in names:
            channel.queue_declare(name, durable=w.durable, arguments=queue_arguments(w))
        if ready_check:
            channel.confirm_delivery()  # from now on basic_publish returns once confirmed
            for name in names:
                channel.basic_publish("", name, HEADER.pack(SENTINEL, 0, 0))


def wait_until_publishers_unblocked(ep: Endpoints, timeout: float = 30.0) -> None:
    """Wait until no RabbitMQ node has its memory or disk alarm raised (an alarm blocks every
    publisher: a run started then would measure the alarm, not the broker)."""
    api = Management.of(ep)
    wait_for(lambda: not any(n.get("mem_alarm") or n.get("disk_free_alarm") for n in api.get("/api/nodes")),
             timeout, 0.5, problem=f"RabbitMQ kept a memory or disk alarm raised for {timeout:.0f} s, "
             "so every publisher is blocked.",
             fix="Delete queues you no longer need (`brokerlab reset`), or restart the brokers: "
                 "`brokerlab down && brokerlab up`.")


def purge_queue(ep: Endpoints, name: str) -> None:
    """Empty a classic or quorum queue between runs (streams cannot be purged)."""
    with pika.BlockingConnection(connection_parameters(ep.rabbitmq_url)) as conn:
        conn.channel().queue_purge(name)


def queue_depth(ep: Endpoints, name: str) -> int:
    with pika.BlockingConnection(connection_parameters(ep.rabbitmq_url)) as conn:
        return conn.channel().queue_declare(name, passive=True).method.message_count


def delete_queues(ep: Endpoints, names: list[str]) -> None:
    """Delete queues (ignores ones already gone)."""
    if not names:
        return
    with pika.BlockingConnection(connection_parameters(ep.rabbitmq_url)) as conn:
        for name in names:
            channel = conn.channel()
            with contextlib.suppress(pika.exceptions.ChannelClosedByBroker):
                channel.queue_delete(name)

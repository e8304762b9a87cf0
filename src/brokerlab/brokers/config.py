"""The course's broker settings, defined once for every backend.

The native backend renders server.properties and rabbitmq.conf from these functions.
docker-compose.yml, brokers/rabbitmq/compose-*.conf and the testcontainers setup are checked
against them, setting by setting, by tests/unit/test_broker_settings.py. On top of these, each
backend says only where its nodes listen and how they find each other (the TOPOLOGY keys), which
differs by nature between processes on 127.0.0.1 and containers on a Docker network.
"""

from __future__ import annotations

# The Kafka release every backend runs: the native launcher resolves these jars from Maven Central
# (maven.KAFKA passes it to Maven), testcontainers runs apache/kafka:<it>, and the tests check that
# brokers/kafka/pom.xml and docker-compose.yml name the same one.
KAFKA_VERSION = "4.4.0"
KAFKA_IMAGE = f"apache/kafka:{KAFKA_VERSION}"
KAFKA_HEAP = "-Xms128m -Xmx256m"  # the stock 1 GiB heap does not fit Binder next to RabbitMQ
RABBIT_MEMORY_MIB = {1: 384, 3: 256}  # memory high watermark per node: single node, cluster node
# Share-group members heartbeat every second (default and floor: 5 s): a member gets its share of
# a partition on a heartbeat after the broker's assignment update (share.assignment.interval.ms,
# 1 s), so three new members are all at work within about 3 s instead of 10 s or more.
SHARE_HEARTBEAT_MS = 1000
SHARE_GROUP_JOIN_S = 3 * SHARE_HEARTBEAT_MS / 1000  # what lesson 05b waits before writing records
# Consumer-group members of the KIP-848 protocol (group.protocol=consumer) heartbeat at the
# interval the broker sets (default and floor: 5 s), and learn of a new assignment only on a
# heartbeat. Lab 01 compares this protocol with the classic one, whose members it sets to
# heartbeat.interval.ms=1000 (default 3 s): the same second on both sides, so what differs is the
# protocol, not the clock.
CONSUMER_HEARTBEAT_MS = 1000

# Where a Kafka node listens and finds its quorum: set by each backend, not chosen by the course.
KAFKA_TOPOLOGY = frozenset({
    "process.roles", "node.id", "controller.quorum.voters", "controller.quorum.bootstrap.servers",
    "listeners", "advertised.listeners", "controller.listener.names", "inter.broker.listener.name",
    "listener.security.protocol.map", "log.dirs",
})
# Where a RabbitMQ node listens, logs and finds its peers; guest's loopback rule (native only:
# the Docker image lets guest in through the published ports, which are bound to 127.0.0.1).
RABBIT_TOPOLOGY_PREFIXES = ("listeners.", "management.tcp.", "mqtt.listeners.", "stomp.listeners.",
                            "stream.listeners.", "stream.advertised_", "cluster_formation.", "log.",
                            "loopback_users.")


def kafka(nodes: int) -> dict[str, str]:
    """Every Kafka setting the course chooses, for the single node (1) or the cluster (3)."""
    rf, isr = ("1", "1") if nodes == 1 else ("3", "2")
    settings = {
        "num.partitions": "1",
        "auto.create.topics.enable": "true",
        "default.replication.factor": rf,
        "min.insync.replicas": isr,
        "offsets.topic.replication.factor": rf,
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": isr,
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": isr,
        # Lessons join groups often: do not wait 3 s for more members.
        "group.initial.rebalance.delay.ms": "0",
        # Its 128 MiB default is allocated on the heap; far too big for a 256 MiB heap.
        "log.cleaner.dedupe.buffer.size": "16777216",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
        # Lessons watch retention delete segments within seconds (defaults: 5 min and 1 min).
        "log.retention.check.interval.ms": "5000",
        "log.segment.delete.delay.ms": "1000",
        "group.share.heartbeat.interval.ms": str(SHARE_HEARTBEAT_MS),
        "group.share.min.heartbeat.interval.ms": str(SHARE_HEARTBEAT_MS),
        "group.consumer.heartbeat.interval.ms": str(CONSUMER_HEARTBEAT_MS),
        "group.consumer.min.heartbeat.interval.ms": str(CONSUMER_HEARTBEAT_MS),
    }
    if nodes > 1:
        # Notice a killed broker in ~3 s instead of 9 s, so the labs' failovers are quick to watch.
        settings |= {"broker.heartbeat.interval.ms": "500", "broker.session.timeout.ms": "3000"}
    return settings


def kafka_env(settings: dict[str, str]) -> dict[str, str]:
    """The same settings as the apache/kafka image takes them: ``foo.bar`` as ``KAFKA_FOO_BAR``."""
    return {"KAFKA_" + key.upper().replace(".", "_"): value for key, value in settings.items()}


def rabbitmq(nodes: int) -> dict[str, str]:
    """Every RabbitMQ setting the course chooses, for the single node (1) or a cluster node (3)."""
    return {
        "vm_memory_high_watermark.absolute": f"{RABBIT_MEMORY_MIB[nodes]}MiB",
        "disk_free_limit.absolute": "50MB",
        # Quorum queues keep their write-ahead log in memory until it rolls over, by default at
        # 512 MiB: above this node's memory watermark, so a burst of quorum-queue writes (the
        # benchmarks' scaling curves) raised the memory alarm and blocked every publisher. Roll
        # it over at 64 MiB, as RabbitMQ's documentation advises for nodes with little memory.
        "raft.wal_max_size_bytes": str(64 * 2**20),
        # Queue and node metrics every second and 1 s samples (defaults: 5 s), so the management
        # API shows a change in ~2 s instead of ~5 s and the labs' live charts move.
        "collect_statistics_interval": "1000",
        "management.sample_retention_policies.global.minute": "1",
        "management.sample_retention_policies.basic.minute": "1",
        "management.sample_retention_policies.detailed.10": "1",
    }


def is_rabbit_topology(key: str) -> bool:
    return key.startswith(RABBIT_TOPOLOGY_PREFIXES)

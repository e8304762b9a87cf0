"""The 3-node Kafka and RabbitMQ clusters of the failure labs, with handles on each node.

    from brokerlab.brokers.cluster import Cluster
    lab = Cluster()                      # the native cluster (``brokerlab cluster up``)
    leader = lab.kafka_leader("orders")  # a KafkaNode: .kill() .pause() .resume() .restart()
    lab.quorum_leader("payments").kill() # a RabbitNode
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Literal, TypeVar

import requests
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, PartitionMetadata

from brokerlab import settings
from brokerlab.brokers import native
from brokerlab.brokers.backend import UpReport
from brokerlab.brokers.kafka_native import KafkaNode
from brokerlab.brokers.management import Management
from brokerlab.brokers.node import BrokerNode
from brokerlab.brokers.rabbitmq_native import RabbitNode
from brokerlab.errors import BrokerlabError
from brokerlab.observe import topics
from brokerlab.waiting import wait_for

AUTH = ("guest", "guest")
NodeT = TypeVar("NodeT", bound=BrokerNode)


class Cluster:
    """Node handles and leader lookups for the native 3+3 cluster."""

    def __init__(self, deployment: native.NativeDeployment | None = None) -> None:
        if settings.endpoints().source == "environment":
            raise BrokerlabError(
                "This lab kills and restarts broker nodes, so it runs only on the course's own "
                "local 3-node cluster, not on a shared cluster named by KAFKA_BOOTSTRAP_SERVERS / "
                "RABBITMQ_URL.",
                "Run it on your own machine (unset those variables), or follow along with the "
                "instructor's screen.",
            )
        self.deployment = deployment or native.cluster()

    @property
    def kafka_nodes(self) -> list[KafkaNode]:
        return self.deployment.kafka

    @property
    def rabbit_nodes(self) -> list[RabbitNode]:
        return self.deployment.rabbit

    @property
    def bootstrap_servers(self) -> str:
        return self.deployment.bootstrap_servers

    @property
    def amqp_urls(self) -> list[str]:
        """One AMQP URL per RabbitMQ node (pika accepts a list to fail over)."""
        return [f"amqp://guest:guest@127.0.0.1:{n.port}/%2F" for n in self.rabbit_nodes]

    def up(self) -> UpReport:
        """Start the cluster (idempotent); also starts or resumes any node a lab left down."""
        return self.deployment.up(progress=lambda _msg: None)

    def down(self, purge: bool = True) -> list[str]:
        """Stop every node. The labs' cluster is disposable: by default its data goes too, so the
        next lab forms a fresh cluster instead of waiting for peers a killed node remembers."""
        return self.deployment.down(purge)

    def add_node(self, kind: Literal["kafka", "rabbitmq"], timeout: float = 90.0) -> BrokerNode:
        """Make one more node of ``kind`` part of the deployment's records and start it: a
        broker-only Kafka node (id 4, then 5…) that registers with the three KRaft controllers, or a
        RabbitMQ node that runs on its own until ``rabbitmqctl join_cluster`` joins it. From here on
        ``brokerlab status``, ``ps`` and ``cluster down`` see it; :meth:`remove_node` takes it out."""
        number = len(self.kafka_nodes if kind == "kafka" else self.rabbit_nodes) + 1
        native.record_extra_node(self.deployment.home, kind, number, present=True)
        self._reload()
        node = (self.kafka_nodes if kind == "kafka" else self.rabbit_nodes)[-1]
        try:
            node.start(timeout)
        except BaseException:
            self.remove_node(node)  # a node that never ran is not left in the records
            raise
        return node

    def remove_node(self, node: BrokerNode) -> None:
        """Stop an extra node, take it out of the deployment's records and delete its directory.
        Make the cluster forget it first (Kafka: unregister the broker; RabbitMQ:
        ``forget_cluster_node``), so nothing waits for it to come back."""
        number = int(node.home.name.rsplit("-", 1)[1])
        node.stop()
        native.record_extra_node(self.deployment.home, node.kind, number, present=False)
        shutil.rmtree(node.home, ignore_errors=True)
        self._reload()

    def _reload(self) -> None:
        """Read the deployment's records again; the handles of nodes that stay are kept (X, Y, Z)."""
        fresh = native.cluster(self.deployment.port_offset, self.deployment.home.parent.parent)
        kafka = {n.name: n for n in self.kafka_nodes}
        rabbit = {n.name: n for n in self.rabbit_nodes}
        fresh.kafka = [kafka.get(n.name, n) for n in fresh.kafka]
        fresh.rabbit = [rabbit.get(n.name, n) for n in fresh.rabbit]
        self.deployment = fresh

    def kafka_node(self, node_id: int) -> KafkaNode:
        for node in self.kafka_nodes:
            if node.node_id == node_id:
                return node
        raise BrokerlabError(f"No Kafka node with id {node_id} "
                             f"(ids: {', '.join(str(n.node_id) for n in self.kafka_nodes)}).")

    def kafka_leader(self, topic: str, partition: int = 0, timeout: float = 10.0) -> KafkaNode:
        """The node that currently leads ``topic``/``partition`` (from live cluster metadata)."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 0})
        metadata = admin.list_topics(topic, timeout=timeout)
        info = metadata.topics.get(topic)
        if info is None or info.error is not None or partition not in info.partitions:
            raise BrokerlabError(f"Topic {topic!r} partition {partition} is not in the cluster "
                                 f"metadata ({info.error if info else 'no such topic'}).",
                                 "Create the topic first; list topics with AdminClient.list_topics().")
        leader = info.partitions[partition].leader
        if leader < 0:
            raise BrokerlabError(f"{topic}[{partition}] has no leader right now.",
                                 "Wait for the election, or restart dead nodes: Cluster().up()")
        return self.kafka_node(leader)

    def wait_for_partition(self, topic: str, partition: int = 0, timeout: float = 30.0) -> PartitionMetadata:
        """The metadata of ``topic``/``partition`` once every broker agrees it has a leader."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 0})
        return topics.wait_until_led(admin, topic, timeout=timeout).partitions[partition]

    def management_url(self) -> str:
        """The management API of a RabbitMQ node that is alive."""
        for node in self.rabbit_nodes:
            if node.is_alive() and node.is_listening():
                return node.management_url
        raise BrokerlabError("No RabbitMQ node of the cluster is running.",
                             "brokerlab cluster up")

    def quorum_leader(self, queue: str, vhost: str = "/") -> RabbitNode:
        """The node that currently leads quorum queue ``queue`` (from the management API)."""
        info = Management(self.management_url(), AUTH).queue(queue, vhost)
        leader = info.get("leader") or info.get("node")
        if not leader:
            raise BrokerlabError(f"Quorum queue {queue!r} has no leader right now.",
                                 "Wait for the election, or restart dead nodes: Cluster().up()")
        for node in self.rabbit_nodes:
            if node.nodename == leader:
                return node
        raise BrokerlabError(f"Queue {queue!r} reports leader {leader!r}, which is not a course node.")

    def wait_for_kafka_leader(self, topic: str, partition: int = 0, not_on: KafkaNode | None = None,
                              timeout: float = 30.0) -> KafkaNode:
        """Wait until ``topic``/``partition`` has a leader (other than ``not_on``) and return it."""
        return self._wait_for(lambda: self.kafka_leader(topic, partition, timeout=5), not_on, timeout,
                              f"{topic}[{partition}]")

    def wait_for_quorum_leader(self, queue: str, not_on: RabbitNode | None = None,
                               timeout: float = 60.0) -> RabbitNode:
        """Wait until quorum queue ``queue`` has a leader (other than ``not_on``) and return it."""
        return self._wait_for(lambda: self.quorum_leader(queue), not_on, timeout, f"queue {queue!r}")

    @staticmethod
    def _wait_for(lookup: Callable[[], NodeT], not_on: NodeT | None, timeout: float, what: str) -> NodeT:
        def new_leader() -> NodeT | None:
            node = lookup()
            return node if node is not not_on else None

        node = wait_for(new_leader, timeout, 0.5,
                        retry_on=(BrokerlabError, requests.RequestException, KafkaException),
                        problem=lambda last: f"No new leader for {what} within {timeout:.0f} s "
                                             f"(last: {last}).",
                        fix="Check the nodes: brokerlab cluster status; restart them: "
                            "brokerlab cluster up")
        assert node is not None  # wait_for raises instead of returning None when given a problem
        return node

    def unhealthy(self) -> list[BrokerNode]:
        """Nodes that are dead or paused."""
        return [n for n in self.deployment.nodes if not n.is_alive()]

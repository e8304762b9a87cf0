"""Kafka's own command-line tools, for the cluster operations confluent-kafka's AdminClient lacks.

confluent-kafka 2.16 has no ``alter_partition_reassignments`` / ``list_partition_reassignments``
and no ``unregister_broker`` (the Java AdminClient has all three). The labs run the tools that
ship in the cached Kafka jars instead, as an operator runs ``kafka-reassign-partitions.sh`` and
``kafka-cluster.sh``:

    from brokerlab.brokers import kafka_tools
    kafka_tools.reassign(lab.kafka_nodes[0], lab.bootstrap_servers, {("orders", 0): [4, 2, 3]})
    kafka_tools.unregister_broker(lab.kafka_nodes[0], lab.bootstrap_servers, 4)
"""

from __future__ import annotations

import json

from brokerlab.brokers import files
from brokerlab.brokers.kafka_native import KafkaNode

REASSIGN = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand"  # kafka-reassign-partitions.sh
CLUSTER_TOOL = "org.apache.kafka.tools.ClusterTool"  # kafka-cluster.sh
FIX = "Check the cluster: brokerlab cluster status (every broker up?)."


def plan(moves: dict[tuple[str, int], list[int]]) -> dict:
    """The reassignment JSON the tool reads: each (topic, partition) → its new replica list,
    the first broker being the preferred leader."""
    return {"version": 1, "partitions": [{"topic": topic, "partition": partition, "replicas": replicas}
                                         for (topic, partition), replicas in moves.items()]}


def reassign(node: KafkaNode, bootstrap: str, moves: dict[tuple[str, int], list[int]]) -> str:
    """Start moving partitions (``kafka-reassign-partitions --execute``): returns the tool's output
    as soon as the controller accepted the plan; the brokers copy the data in the background."""
    path = node.home / "reassignment.json"
    files.write_private(path, json.dumps(plan(moves)))
    return node.run_tool(REASSIGN, "--bootstrap-server", bootstrap, "--reassignment-json-file", str(path),
                         "--execute", fix=FIX)


def unregister_broker(node: KafkaNode, bootstrap: str, broker_id: int) -> str:
    """Remove a stopped broker's registration from the KRaft metadata (``kafka-cluster unregister``)."""
    return node.run_tool(CLUSTER_TOOL, "unregister", "--bootstrap-server", bootstrap, "--id", str(broker_id),
                         fix=FIX)

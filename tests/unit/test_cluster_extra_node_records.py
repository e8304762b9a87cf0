"""Lab 08's extra cluster nodes as configuration: recorded with the deployment, on the cluster's port
pattern, the Kafka one a broker only that joins the three controllers."""

import pytest

from brokerlab.brokers import native
from brokerlab.brokers.kafka_native import render_properties
from brokerlab.errors import BrokerlabError


def props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_a_recorded_extra_node_is_part_of_the_deployment_until_removed(tmp_path):
    home = native.cluster(0, data=tmp_path).home
    native.record_extra_node(home, "kafka", 4, present=True)
    native.record_extra_node(home, "rabbitmq", 4, present=True)
    grown = native.cluster(0, data=tmp_path)
    assert [n.name for n in grown.kafka] == ["kafka-1", "kafka-2", "kafka-3", "kafka-4"]
    assert [n.port for n in grown.rabbit] == [5673, 5674, 5675, 5676]
    assert grown.kafka[3].ports() == [("kafka-4 client", 19122)]  # no controller listener
    assert [p for _label, p in grown.rabbit[3].ports()] == [5676, 15676, 25676, 5556]
    assert grown.rabbit[3].peers == (grown.rabbit[3].nodename,)  # it joins by join_cluster, not discovery
    native.record_extra_node(home, "kafka", 4, present=False)
    assert [n.name for n in native.cluster(0, data=tmp_path).kafka] == ["kafka-1", "kafka-2", "kafka-3"]
    assert native.extra_nodes(home) == {"kafka": [], "rabbitmq": [4]}


def test_the_extra_kafka_node_is_a_broker_joining_the_three_controllers(tmp_path):
    native.record_extra_node(tmp_path / "run" / "cluster", "kafka", 4, present=True)
    node = native.cluster(0, data=tmp_path).kafka[3]
    p = props(render_properties(node.node_id, node.port, node.controller_port, node.data, node.settings))
    assert (p["process.roles"], p["node.id"]) == ("broker", "4")
    assert p["listeners"] == "PLAINTEXT://127.0.0.1:19122"
    assert p["controller.quorum.voters"] == "1@127.0.0.1:19093,2@127.0.0.1:19103,3@127.0.0.1:19113"
    assert p["controller.listener.names"] == "CONTROLLER"


def test_the_clusters_own_nodes_cannot_be_recorded_as_extra(tmp_path):
    with pytest.raises(BrokerlabError, match="one of the cluster's own three"):
        native.record_extra_node(tmp_path, "rabbitmq", 2, present=True)

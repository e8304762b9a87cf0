"""Lab 08's fourth nodes: part of the cluster deployment's records, so `brokerlab cluster status`,
`brokerlab ps` and `brokerlab cluster down` see and stop them; removed, the cluster is 3+3 again."""

import json
import os
import subprocess
import sys

import pytest

from brokerlab import settings
from brokerlab.brokers import kafka_tools, processes, rabbitctl

# A lifecycle proof of the launcher (like its fault tests, in make test-slow): lab 08, in make test,
# checks that status lists the fourth nodes while they run.
pytestmark = [pytest.mark.integration, pytest.mark.cluster, pytest.mark.slow]


def cli(lab, *args: str) -> subprocess.CompletedProcess:
    """The real command, on the cluster the suite uses (same data dir, same port offset)."""
    env = {**os.environ, "BROKERLAB_DATA_DIR": str(settings.data_dir()),
           "BROKERLAB_PORT_OFFSET": str(lab.deployment.port_offset)}
    return subprocess.run([sys.executable, "-m", "brokerlab.cli", *args], capture_output=True, text=True,
                          env=env, timeout=180, check=False)


def remove_extra_nodes(lab) -> None:
    """Take every extra node out of the cluster and of the deployment's records."""
    for node in lab.kafka_nodes[3:]:
        node.stop()
        kafka_tools.unregister_broker(lab.kafka_nodes[0], lab.bootstrap_servers, node.node_id)
        lab.remove_node(node)
    for node in lab.rabbit_nodes[3:]:
        node.stop()
        rabbitctl.run(lab.rabbit_nodes[0], "forget_cluster_node", node.nodename)
        lab.remove_node(node)


def test_extra_nodes_are_listed_stopped_by_cluster_down_and_removed(lab):
    o = lab.deployment.port_offset
    k4, r4 = lab.add_node("kafka"), lab.add_node("rabbitmq")
    try:
        for args in (("stop_app",), ("join_cluster", lab.rabbit_nodes[0].nodename), ("start_app",)):
            rabbitctl.run(r4, *args)
        assert (k4.port, r4.port) == (19122 + o, 5676 + o)
        assert "process.roles=broker\n" in (k4.home / "server.properties").read_text()

        status = json.loads(cli(lab, "cluster", "status", "--json").stdout)
        assert [n["port"] for n in status["kafka"]["nodes"]][-1] == k4.port
        assert [n["name"] for n in status["rabbitmq"]["nodes"]][-1] == r4.name
        assert all(n["alive"] for n in status["kafka"]["nodes"] + status["rabbitmq"]["nodes"])
        listed = cli(lab, "ps").stdout
        assert "cluster/kafka-4" in listed and "cluster/rabbitmq-4" in listed

        down = cli(lab, "cluster", "down")
        assert down.returncode == 0 and "kafka-4" in down.stdout and r4.name in down.stdout
        assert not processes.owned(k4.home) and not processes.owned(r4.home)

        lab.up()  # the records keep them: up starts all eight nodes again
        assert len(lab.deployment.nodes) == 8 and lab.deployment.is_up()
    finally:
        remove_extra_nodes(lab)
    assert len(lab.kafka_nodes) == len(lab.rabbit_nodes) == 3
    assert not k4.home.exists() and not r4.home.exists()
    status = json.loads(cli(lab, "cluster", "status", "--json").stdout)
    assert len(status["kafka"]["nodes"]) == len(status["rabbitmq"]["nodes"]) == 3

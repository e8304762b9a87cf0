"""Rendering of Kafka and RabbitMQ configuration: every listener on loopback, the right quorum."""

import re

from brokerlab.brokers import kafka_native, native, rabbitmq_native
from brokerlab.brokers.kafka_native import KafkaSettings, render_properties
from brokerlab.brokers.rabbitmq_native import RabbitPorts, render_conf


def props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_single_kafka_node_is_combined_and_on_loopback(tmp_path):
    p = props(render_properties(1, 9092, 9093, tmp_path, KafkaSettings(voters=((1, 9093),))))
    assert p["process.roles"] == "broker,controller"
    assert p["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert "controller.quorum.voters" not in p
    assert p["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert p["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert p["offsets.topic.replication.factor"] == "1"
    assert p["transaction.state.log.min.isr"] == "1"
    assert int(p["log.cleaner.dedupe.buffer.size"]) <= 32 * 2**20  # fits a 256 MiB heap
    assert p["group.initial.rebalance.delay.ms"] == "0"


def test_cluster_kafka_nodes_share_voters_rf3_isr2(tmp_path):
    deployment = native.cluster(data=tmp_path)
    rendered = [props(render_properties(n.node_id, n.port, n.controller_port, n.data, n.settings))
                for n in deployment.kafka]
    voters = {r["controller.quorum.voters"] for r in rendered}
    assert voters == {"1@127.0.0.1:19093,2@127.0.0.1:19103,3@127.0.0.1:19113"}
    assert [r["listeners"].split(",")[0] for r in rendered] == [
        f"PLAINTEXT://127.0.0.1:{port}" for port in (19092, 19102, 19112)]
    for r in rendered:
        assert (r["default.replication.factor"], r["min.insync.replicas"]) == ("3", "2")
        assert r["offsets.topic.replication.factor"] == "3"


def test_port_offset_shifts_every_port(tmp_path):
    base = native.single(0, data=tmp_path / "a")
    shifted = native.single(100, data=tmp_path / "b")
    before = [port for n in base.nodes for _, port in n.ports()]
    after = [port for n in shifted.nodes for _, port in n.ports()]
    assert after == [p + 100 for p in before]
    assert shifted.bootstrap_servers == "127.0.0.1:9192"
    assert ":5772/" in shifted.amqp_url


def test_cluster_id_is_kraft_shaped():
    ids = {kafka_native.new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) and not i.startswith("-") for i in ids)


def test_identity_is_kept_across_calls(tmp_path):
    first = native.single(data=tmp_path).kafka[0].cluster_id
    assert native.single(data=tmp_path).kafka[0].cluster_id == first


def test_rabbit_conf_binds_everything_to_loopback():
    conf = render_conf(RabbitPorts(5672, 15672, 25672, mqtt=1883, stomp=61613, stream=5552), ())
    listeners = [line for line in conf.splitlines()
                 if "listeners" in line or ".ip" in line or "advertised_host" in line]
    assert len(listeners) == 6
    assert all("127.0.0.1" in line for line in listeners)
    assert "stream.advertised_port = 5552" in conf
    assert "vm_memory_high_watermark.absolute = 384MiB" in conf
    assert "cluster_formation" not in conf
    assert "management.sample_retention_policies.basic.minute = 1" in conf


def test_rabbit_cluster_conf_lists_peers():
    conf = render_conf(RabbitPorts(5673, 15673, 25673), ("a@localhost", "b@localhost"))
    assert "cluster_formation.peer_discovery_backend = classic_config" in conf
    assert "cluster_formation.classic_config.nodes.2 = b@localhost" in conf
    assert "vm_memory_high_watermark.absolute = 256MiB" in conf


def test_rabbit_environment_is_private_and_loopback(tmp_path, monkeypatch):
    monkeypatch.setenv("RABBITMQ_NODE_PORT", "1")  # a stray variable must not leak into the node
    node = native.single(data=tmp_path).rabbit[0]
    env = node.environment()
    assert env["RABBITMQ_NODE_PORT"] == "5672"
    assert env["HOME"].startswith(str(tmp_path))
    assert env["ERL_EPMD_ADDRESS"] == "127.0.0.1"
    assert env["ERL_EPMD_PORT"] == str(rabbitmq_native.EPMD_PORT)
    assert "inet_dist_use_interface {127,0,0,1}" in env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]
    assert env["RABBITMQ_CONFIG_FILES"].startswith(str(tmp_path))  # /etc/rabbitmq/conf.d not read


def test_prepare_writes_cookie_readonly(tmp_path):
    node = native.single(data=tmp_path).rabbit[0]
    node.prepare()
    cookie = node.home / "home" / ".erlang.cookie"
    assert cookie.stat().st_mode & 0o777 == 0o400
    assert cookie.read_text() == node.cookie
    assert "rabbitmq_mqtt" in (node.home / "enabled_plugins").read_text()


def test_a_deployment_remembers_its_port_offset(tmp_path, monkeypatch):
    monkeypatch.delenv("BROKERLAB_PORT_OFFSET", raising=False)
    home = tmp_path / "run" / "single"
    home.mkdir(parents=True)
    (home / native.OFFSET_FILE).write_text("100")
    assert native.single(data=tmp_path).kafka[0].port == 9192
    assert native.single(0, data=tmp_path).kafka[0].port == 9092  # an explicit offset wins
    # A cluster never started here follows the single deployment's offset.
    assert native.cluster(data=tmp_path).kafka[0].port == 19192


def test_every_course_port_is_below_the_ephemeral_range(tmp_path):
    # Linux hands out 32768-60999 to outgoing connections: a client socket can hold such a port
    # for as long as it lives, and a broker that wants to listen there cannot start.
    ports = [port for deployment in (native.single(data=tmp_path), native.cluster(data=tmp_path))
             for node in deployment.nodes for _label, port in node.ports()]
    stomp = 61613  # STOMP's registered port, above the range
    assert all(port < 32768 or port == stomp for port in ports), sorted(ports)


def test_every_native_node_speaks_the_stream_protocol(tmp_path):
    """Single node and each cluster node: the rabbitmq_stream plugin, its own port (+ offset) on
    127.0.0.1, advertised as such; the endpoints name the single node's."""
    single = native.single(700, data=tmp_path).rabbit[0]
    nodes = native.cluster(700, data=tmp_path).rabbit
    assert [n.rabbit_ports.stream for n in [single, *nodes]] == [6252, 6253, 6254, 6255]
    for node in [single, *nodes]:
        assert "rabbitmq_stream" in node.plugins
        conf = render_conf(node.rabbit_ports, node.peers)
        port = node.rabbit_ports.stream
        assert f"stream.listeners.tcp.default = 127.0.0.1:{port}" in conf
        assert f"stream.advertised_port = {port}" in conf and "stream.advertised_host = 127.0.0.1" in conf

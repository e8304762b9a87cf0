"""The course's single Kafka and RabbitMQ, checked with clients nobody here wrote."""

import json
import shutil
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pika
import pytest
import requests
from confluent_kafka.admin import AdminClient, NewTopic

from brokerlab.brokers.roundtrip import kafka_roundtrip, rabbitmq_roundtrip
from brokerlab.settings import ns

pytestmark = pytest.mark.integration


def test_round_trips(brokers):
    assert kafka_roundtrip(brokers.kafka_bootstrap_servers, timeout=30) > 0
    assert rabbitmq_roundtrip(brokers.rabbitmq_url, timeout=30) > 0


def test_kcat_produces_and_consumes_through_the_course_kafka(brokers):
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if kcat is None:
        pytest.skip("kcat is not installed (`scripts/setup.sh --test`, which `make test` runs, installs it)")
    topic = ns(f"kcat-{uuid.uuid4().hex[:8]}")
    admin = AdminClient(brokers.kafka_config())
    admin.create_topics([NewTopic(topic, num_partitions=1)])[topic].result(timeout=15)
    try:
        lines = [f"line-{i}-{uuid.uuid4().hex[:6]}" for i in range(5)]
        server = brokers.kafka_bootstrap_servers
        subprocess.run([kcat, "-b", server, "-t", topic, "-P"], input="\n".join(lines) + "\n",
                       text=True, check=True, timeout=30)
        read = subprocess.run([kcat, "-b", server, "-t", topic, "-C", "-o", "beginning", "-e", "-q"],
                              capture_output=True, text=True, check=True, timeout=30)
        assert read.stdout.split() == lines
        meta = subprocess.run([kcat, "-b", server, "-L", "-J"], capture_output=True, text=True,
                              check=True, timeout=30)
        assert topic in {t["topic"] for t in json.loads(meta.stdout)["topics"]}
    finally:
        admin.delete_topics([topic])[topic].result(timeout=15)


def test_management_api_sees_a_queue_the_test_made(brokers):
    queue = ns(f"mgmt-{uuid.uuid4().hex[:8]}")
    with pika.BlockingConnection(pika.URLParameters(brokers.rabbitmq_url)) as conn:
        channel = conn.channel()
        channel.queue_declare(queue=queue, durable=False, auto_delete=False)
        channel.confirm_delivery()
        for i in range(3):
            channel.basic_publish(exchange="", routing_key=queue, body=f"m{i}".encode())
        try:
            url = f"{brokers.rabbitmq_management_url}/api/queues/%2F/{quote(queue, safe='')}"
            deadline = time.monotonic() + 20
            info: dict = {}
            while time.monotonic() < deadline:
                info = requests.get(url, auth=brokers.management_auth, timeout=5).json()
                if info.get("messages") == 3:
                    break
                time.sleep(0.5)
            assert info.get("messages") == 3, info
            assert info["name"] == queue and info["durable"] is False
        finally:
            channel.queue_delete(queue)


def test_mqtt_stomp_and_stream_listeners_are_enabled(brokers):
    overview = requests.get(f"{brokers.rabbitmq_management_url}/api/overview",
                            auth=brokers.management_auth, timeout=5).json()
    protocols = {listener["protocol"] for listener in overview["listeners"]}
    assert {"amqp", "mqtt", "stomp", "stream", "http"} <= protocols
    stream_ports = {item["port"] for item in overview["listeners"] if item["protocol"] == "stream"}
    assert stream_ports == {brokers.stream_address[1]}


def test_status_json_has_the_documented_keys(brokers):
    if brokers.source != "native":
        pytest.skip(f"brokers come from {brokers.source}; `brokerlab status` describes native ones")
    out = subprocess.run([sys.executable, "-m", "brokerlab.cli", "status", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["kafka"]["up"] and status["rabbitmq"]["up"]
    assert status["kafka"]["bootstrap_servers"] == brokers.kafka_bootstrap_servers
    assert status["rabbitmq"]["amqp_url"] == brokers.rabbitmq_url
    assert status["rabbitmq"]["management_url"] == brokers.rabbitmq_management_url
    assert status["kafka"]["pids"] and status["rabbitmq"]["pids"]
    assert status["rabbitmq"]["version"].startswith("3.")


def test_every_listener_is_on_loopback(brokers):
    if brokers.source != "native":
        pytest.skip("only the native launcher's own processes can be inspected")
    import psutil

    from brokerlab.brokers import native

    pids = {pid for node in native.single().nodes for pid in node.pids()}
    listening = [c for c in psutil.net_connections("inet")
                 if c.status == psutil.CONN_LISTEN and c.pid in pids]
    assert listening
    assert {c.laddr.ip for c in listening} <= {"127.0.0.1", "::ffff:127.0.0.1"}, listening

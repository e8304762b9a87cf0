"""Lab 06 checker on the real 3-node cluster: kills the queue's node, rejects classic and
single-member queues with the right hint, and a queue named after another attempt; accepts a quorum
queue and a stream."""

import re

import pytest

from brokerlab.course import checks
from brokerlab.exercises import lab_06_quorum_queues_node_failure as lab06

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


@pytest.fixture(scope="module", autouse=True)
def healthy(lab):
    """Every RabbitMQ node running and formed before this module's tests; every node started after."""
    lab06.wait_healthy(lab)
    yield
    lab06.start_missing(lab)


def failed(result):
    return "\n".join(line for line in result.feedback if line.startswith("✘"))


def test_rejects_a_classic_queue(lab):
    result = lab06.check_survives_node_loss(lambda ch, name: ch.queue_declare(name, durable=True), lab)
    assert not result.passed
    text = failed(result)
    assert "classic queue lives on one node" in text and "404" in text and "x-queue-type" in text, result
    assert all(node.is_alive() for node in lab.rabbit_nodes), "the checker restarts the node it killed"


def test_rejects_a_single_member_quorum_queue(lab):
    def single(channel, name):
        channel.queue_declare(name, durable=True, arguments={"x-queue-type": "quorum",
                                                            "x-quorum-initial-group-size": 1})
    result = lab06.check_survives_node_loss(single, lab)
    assert not result.passed
    assert "only 1 member(s)" in failed(result) and "no member of the queue became leader" in failed(result)


def test_rejects_a_non_durable_quorum_queue_with_the_brokers_reason(lab):
    def transient(channel, name):
        channel.queue_declare(name, arguments={"x-queue-type": "quorum"})
    result = lab06.check_survives_node_loss(transient, lab)
    assert not result.passed and "non-durable" in failed(result), result


def test_each_attempt_draws_another_scenario():
    a, b = lab06.new_scenario(1), lab06.new_scenario(2)
    assert a.queue != b.queue and a.ids != b.ids and a.declare_on != a.publish_on
    assert lab06.new_scenario(1) == a


def test_rejects_the_queue_named_in_a_failed_attempt(lab, capsys):
    first = lab06.check_survives_node_loss(lambda ch, name: None, lab, seed=3)
    assert not first.passed and "No queue named" in failed(first)
    copied = re.search(r"queue '([^']+)'", capsys.readouterr().out).group(1)

    def literal(channel, _name):
        channel.queue_declare(copied, durable=True, arguments={"x-queue-type": "quorum"})
    try:
        second = lab06.check_survives_node_loss(literal, lab, seed=4)
    finally:
        with lab06.pika.BlockingConnection(lab06.amqp_parameters(lab.amqp_urls[1])) as connection:
            connection.channel().queue_delete(copied)
    assert not second.passed and "No queue named" in failed(second), second


def test_accepts_the_reference(lab):
    reference = checks.load_solution("lab_06_quorum_queues_node_failure")
    result = lab06.check_survives_node_loss(reference.declare_queue, lab, seed=5)
    assert result.passed, result


def test_accepts_a_stream(lab):
    def stream(channel, name):
        channel.queue_declare(name, durable=True, arguments={"x-queue-type": "stream"})
    result = lab06.check_survives_node_loss(stream, lab, seed=6)
    assert result.passed, result
    assert any("stream" in line for line in result.feedback)


def test_rejects_a_single_member_stream(lab):
    def single(channel, name):
        channel.queue_declare(name, durable=True, arguments={"x-queue-type": "stream",
                                                            "x-initial-cluster-size": 1})
    result = lab06.check_survives_node_loss(single, lab, seed=7)
    assert not result.passed and "x-initial-cluster-size" in failed(result), result

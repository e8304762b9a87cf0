"""The verdict rules of notebooks 06 and 07: every outcome gives its own verdict (no broker)."""

import pytest

from brokerlab.course import rules


@pytest.mark.parametrize(("d1", "d2", "verdict"), [
    (12.0, 9.0, "half-true"),  # a large gap at both rungs
    (1.5, 1.1, "refuted"),  # hardly any gap
    (5.0, 1.2, "depends"),  # the factor moves with the rung
    (8.0, 1.9, "depends"),
])
def test_throughput_rule(d1, d2, verdict):
    assert rules.rule("throughput").verdict({"d1_ratio": d1, "d2_ratio": d2}) == verdict


@pytest.mark.parametrize(("best", "verdict"), [(250_000.0, "refuted"), (2e8, "half-true")])
def test_scale_rule(best, verdict):
    assert rules.rule("scale").verdict({"best_msgs_per_s": best}) == verdict


@pytest.mark.parametrize(("kafka", "rabbit", "verdict"), [
    (10.0, 2.0, "half-true"),  # RabbitMQ clearly lower, as the article says
    (2.0, 10.0, "refuted"),  # Kafka clearly lower
    (5.0, 4.0, "depends"),  # within a factor of 2
])
def test_latency_rule(kafka, rabbit, verdict):
    assert rules.rule("latency").verdict({"kafka_p99_ms": kafka, "rabbitmq_p99_ms": rabbit}) == verdict


def test_a_missing_measurement_is_named():
    with pytest.raises(Exception, match="d2_ratio"):
        rules.rule("throughput").verdict({"d1_ratio": 3.0})

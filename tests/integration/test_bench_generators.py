"""Tiny runs of every load generator against the live brokers: closed and open loop, every
publish mode, every consumer mode, D0/D1/D2, CPU sampling, cleanup."""

import pytest

from brokerlab.bench import mode, runner, topology
from brokerlab.bench.workload import ladder

pytestmark = pytest.mark.integration

TINY = mode.QUICK.with_(warmup_s=0.1, duration_s=0.4, runs=1, drain_s=3.0, prefill_messages=3000)


@pytest.fixture(scope="module", autouse=True)
def nothing_left_behind(brokers):
    """After this module's runs, whichever of them ran: every topic and queue they made is gone."""
    yield
    assert topology.leftovers(brokers) == [], "a run did not delete what it created"


def one(brokers, w, **kwargs):
    config = runner.run_python(w, TINY, brokers, **kwargs)
    assert len(config.runs) == 1 and config.summary["msgs_per_s"]["n"] == 1
    run = config.runs[0]
    assert run["msgs_per_s"] > 0, run
    assert run["bound"] in {"client-bound", "broker-bound", "machine-saturated", "waiting"}
    names = {p["name"] for p in run["cpu"]["processes"]}
    assert ("consumer" if kwargs.get("consumer_only") else "producer") in names
    if brokers.source == "native":
        assert f"{w.system} broker" in names
    return config, run


@pytest.mark.parametrize("rung", ["D0", "D1", "D2"])
def test_kafka_closed_loop_producer(brokers, rung):
    _, run = one(brokers, ladder("kafka", rung, consumer=False))
    prod = run["producer"]
    assert prod["acked"] == prod["sent"] > 0 and prod["errors"] == 0 and prod["unflushed"] == 0
    assert run["consumer"] is None and run["ack"]["corrected"]["count"] == prod["acked"]


def test_kafka_one_at_a_time_keeps_one_message_in_flight(brokers):
    _, run = one(brokers, ladder("kafka", "D1", consumer=False, one_at_a_time=True, linger_ms=0))
    mean_s = run["ack"]["corrected"]["mean_ms"] / 1000
    assert run["msgs_per_s"] * mean_s <= 1.02  # Little's law with a window of one


def test_kafka_open_loop_with_consumer_records_latency(brokers):
    config, run = one(brokers, ladder("kafka", "D1", rate=500, linger_ms=1, consume_mode="one"))
    prod, cons = run["producer"], run["consumer"]
    assert prod["sent"] == pytest.approx(500 * TINY.duration_s, abs=3)  # on schedule, nothing skipped
    assert cons["recorded"] == prod["sent"]  # every message sent in the window was received
    for pct in ("p50_ms", "p99_ms", "max_ms"):
        assert run["e2e"]["corrected"][pct] >= run["e2e"]["naive"][pct]
    assert config.latency["e2e"]["summary"]["corrected"]["count"] == cons["recorded"]


@pytest.mark.parametrize("consume_mode", ["one", "batch"])
def test_kafka_consumer_only(brokers, consume_mode):
    _, run = one(brokers, ladder("kafka", "D1", consume_mode=consume_mode), consumer_only=True)
    assert run["producer"] is None and run["consumer"]["received"] > 0


@pytest.mark.parametrize(("rung", "mode_"), [("D0", "no-confirms"), ("D1", "pipelined"),
                                             ("D1", "each-confirm"), ("D2", "pipelined")])
def test_rabbitmq_publishers(brokers, rung, mode_):
    _, run = one(brokers, ladder("rabbitmq", rung, publish_mode=mode_, confirm_window=20))
    prod = run["producer"]
    assert prod["sent"] > 0 and prod["errors"] == 0
    if mode_ == "no-confirms":
        assert prod["acked"] == 0 and not prod["confirmed"]
    else:
        assert prod["acked"] == prod["sent"]  # every confirmed message of the window
        window = 1 if mode_ == "each-confirm" else 20
        assert run["msgs_per_s"] * run["ack"]["corrected"]["mean_ms"] / 1000 <= window * 1.02


def test_rabbitmq_open_loop_stream(brokers):
    _, run = one(brokers, ladder("rabbitmq", "D1", queue_type="stream", rate=300))
    assert run["consumer"]["recorded"] == run["producer"]["sent"] > 0
    assert run["e2e"]["corrected"]["p99_ms"] >= run["e2e"]["naive"]["p99_ms"]


@pytest.mark.parametrize("overrides", [{"prefetch": 10}, {"auto_ack": True, "prefetch": 0}])
def test_rabbitmq_consumer_only(brokers, overrides):
    _, run = one(brokers, ladder("rabbitmq", "D1", **overrides), consumer_only=True)
    assert run["consumer"]["received"] > 0


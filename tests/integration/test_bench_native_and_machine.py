"""The native tools on the live brokers (tiny runs), the machine probes, calibrate, the CLI."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from brokerlab.bench import experiments, machine, mode, native, runner, stall, topology
from brokerlab.bench.workload import ladder

pytestmark = pytest.mark.integration

TINY = mode.QUICK.with_(warmup_s=0.1, duration_s=0.4, runs=1, native_records=3000, perftest_seconds=2,
                        prefill_messages=3000, loopback_mb=16, fsync_samples=20)


def test_producer_and_consumer_performance(brokers):
    topic = topology.unique_name("test-native")
    group = topology.unique_name("test-perf-group")
    topology.create_topic(brokers, topic)
    try:
        out = native.producer_performance(brokers, topic, 3000, 512, {"acks": "all", "linger.ms": 5},
                                          runner.broker_pids(brokers, "kafka"))
        assert out["records"] == 3000 and out["msgs_per_s"] > 0 and out["p99_ms"] >= out["p50_ms"]
        assert "ProducerPerformance" in {p["name"] for p in out["cpu"]["processes"]}
        got = native.consumer_performance(brokers, topic, 3000, group, runner.broker_pids(brokers, "kafka"))
        assert got["data.consumed.in.nMsg"] == 3000 and got["msgs_per_s"] > 0
    finally:
        topology.discard_kafka(brokers, topics=[topic], groups=[group])


def test_perftest_runs_the_ladder_rung(brokers):
    config = runner.run_native(ladder("rabbitmq", "D2"), TINY, brokers)
    run = config.runs[0]
    assert run["msgs_per_s"] > 0 and run["tool"]["rate_basis"] == "confirmed"
    assert "-qq" in run["tool"]["command"]
    # It reached the broker with the URL from its environment; no argv shows the password.
    assert not any("amqp" in arg or "guest" in arg for arg in run["tool"]["command"])
    assert "PerfTest" in {p["name"] for p in run["cpu"]["processes"]}


def test_machine_probes(tmp_path):
    fs = machine.fsync_latency(tmp_path, samples=20)
    assert fs["samples"] == 20 and 0 < fs["min_ms"] <= fs["p50_ms"] <= fs["max_ms"]
    assert not list(tmp_path.iterdir())  # the probe file is gone
    lo = machine.loopback_throughput(16)
    assert lo["MiB_per_s"] > 0
    env = machine.environment()
    assert env["cpu_count"] >= 1 and env["pika"] and env["librdkafka"]


def test_calibrate_reports_both_brokers(brokers):
    bench = experiments.Bench(mode=TINY, ep=brokers)
    try:
        out = experiments.calibrate(bench)
    finally:
        bench.close()
    for system in ("kafka", "rabbitmq"):
        r = out[system]
        assert r["python_msgs_per_s"] > 0 and r["native_msgs_per_s"] > 0
        assert r["ratio"] == pytest.approx(r["python_msgs_per_s"] / r["native_msgs_per_s"], rel=0.01)
    assert out["experiment"]["schema"] == "brokerlab.bench/1"


def test_a_frozen_broker_shows_in_corrected_latency_only(brokers):
    if brokers.source != "native":
        pytest.skip("freezing a broker needs the native brokers")
    w = experiments.latency_workload("rabbitmq", 1000, confirm_window=10)
    config = runner.run_python(w, TINY.with_(duration_s=1.5), brokers,
                               during=stall.freeze_hook(brokers, "rabbitmq", 0.3))
    e2e = config.runs[0]["e2e"]
    assert e2e["corrected"]["p99_ms"] >= 150  # ≥ 150 messages were due in the freeze's first half
    assert e2e["corrected"]["p99_ms"] >= e2e["naive"]["p99_ms"]


def test_cli_machine_json(brokers, tmp_path):
    cmd = [str(Path(sys.executable).with_name("brokerlab")), "bench", "machine", "--quick", "--json"]
    reply = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert reply.returncode == 0, reply.stderr
    data = json.loads(reply.stdout)
    assert data["fsync"]["p50_ms"] > 0 and data["loopback"]["MiB_per_s"] > 0

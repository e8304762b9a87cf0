"""Scaling points on the live brokers (tiny windows): every family, several producer processes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from brokerlab.bench import mode, runner, scale, topology
from brokerlab.bench.workload import ladder

pytestmark = pytest.mark.integration

TINY = mode.QUICK.with_(scale_warmup_s=0.1, scale_duration_s=0.4, duration_s=0.4, warmup_s=0.1, runs=1)


@pytest.mark.parametrize("family", scale.FAMILIES)
def test_one_point_per_family_moves_messages_and_cleans_up(brokers, family):
    point = scale.Point(family, 2, 2)
    got = scale.measure(point, TINY, brokers)
    assert got["msgs_per_s"] > 0 and got["errors"] == 0 and got["acked"] > 0, got
    assert got["MiB_per_s"] == pytest.approx(got["msgs_per_s"] / 1024, rel=0.01)
    names = {p["name"] for p in got["cpu"]["processes"]}
    assert {"producer-1", "producer-2"} <= names, names
    if brokers.source == "native":
        assert f"{point.system} broker" in names and got["cpu"]["broker_cores"] > 0
    assert topology.leftovers(brokers) == []


def test_run_adds_peaks_and_the_load_average(brokers):
    record = scale.run([scale.Point("kafka", 1, 1), scale.Point("classic", 1, 1, persistent=False)],
                       TINY, brokers)
    assert scale.validate(record) == []
    assert set(record["peaks"]) == {"kafka acks=all RF 1", "classic transient, confirms"}
    assert all(p["load_average_1m"] >= 0 for p in record["points"])


def test_python_runs_with_two_producer_processes(brokers):
    w = ladder("rabbitmq", "D1", producers=2)
    config = runner.run_python(w, TINY, brokers)
    run = config.runs[0]
    assert run["producer"]["processes"] == 2 and run["producer"]["acked"] > 0
    assert {"producer", "producer-2", "consumer"} <= {p["name"] for p in run["cpu"]["processes"]}
    assert "×2 producers" in config.label


def test_cli_scale_json(brokers, tmp_path):
    cmd = [str(Path(sys.executable).with_name("brokerlab")), "bench", "scale", "--quick", "--json",
           "--family", "kafka", "--no-durability", "--output-dir", str(tmp_path)]
    reply = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert reply.returncode == 0, reply.stderr[-2000:]
    record = json.loads(reply.stdout)
    assert scale.validate(record) == [] and record["mode"] == "quick"
    assert len(record["points"]) == len(mode.QUICK.scale_partitions) * len(mode.QUICK.scale_producers)
    assert Path(record["result_file"]).exists()

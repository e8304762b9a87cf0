"""The native launcher end to end, on its own ports and data dir: start, crash, restart, stop, purge,
Ctrl+C, and a broker that dies while starting."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from brokerlab.brokers import native, processes
from brokerlab.brokers.ports import is_free
from brokerlab.errors import BrokerlabError
from brokerlab.waiting import wait_for

pytestmark = pytest.mark.integration
OFFSET = 1000  # Kafka 10092, AMQP 6672, management 16672: clear of the course's own brokers


def cli(data: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "BROKERLAB_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "brokerlab.cli", *args, "--port-offset", str(OFFSET)],
                          capture_output=True, text=True, env=env, timeout=180, **kwargs)


def all_ports(deployment: native.NativeDeployment) -> list[int]:
    return [port for node in deployment.nodes for _, port in node.ports()]


@pytest.fixture
def data(tmp_path):
    # Reuse the course's jar cache so this needs no network.
    from brokerlab.settings import data_dir

    (tmp_path / "cache").symlink_to(data_dir() / "cache")
    yield tmp_path
    native.single(OFFSET, data=tmp_path).down()
    assert processes.owned(tmp_path / "run") == []  # down leaves no process of the deployment


def test_up_crash_restart_down_purge(data):
    first = cli(data, "up")
    assert first.returncode == 0, first.stderr
    assert "Kafka ready" in first.stdout and "RabbitMQ ready" in first.stdout
    deployment = native.single(OFFSET, data=data)
    assert deployment.is_up()

    again = cli(data, "up")
    assert again.returncode == 0 and "Already up" in again.stdout

    # A crash leaves a stale PID file behind: status notices, up restarts only what died.
    kafka, rabbit = deployment.kafka[0], deployment.rabbit[0]
    rabbit_pids = rabbit.pids()
    os.kill(kafka.process().pid, signal.SIGKILL)
    assert psutil.wait_procs([psutil.Process(p) for p in kafka.pids()], timeout=10)
    status = cli(data, "status")
    assert status.returncode == 3 and "DOWN" in status.stdout
    restarted = cli(data, "up")
    assert restarted.returncode == 0, restarted.stderr
    assert rabbit.pids() == rabbit_pids and kafka.is_alive()

    pids = [pid for node in deployment.nodes for pid in node.pids()]
    stopped = cli(data, "down")
    assert stopped.returncode == 0 and "kafka-1" in stopped.stdout
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert all(is_free(p) for p in all_ports(deployment))

    assert cli(data, "down", "--purge").returncode == 0
    assert not (data / "run" / "single" / "kafka").exists()
    assert (data / "cache").exists()  # the jar cache survives a purge


def test_ctrl_c_during_up_leaves_no_orphans(data):
    env = {**os.environ, "BROKERLAB_DATA_DIR": str(data)}
    # SIGINT's default disposition: a shell that started the test suite in the background (as CI
    # may) leaves it ignored, and Python then never turns Ctrl+C into KeyboardInterrupt.
    proc = subprocess.Popen([sys.executable, "-m", "brokerlab.cli", "up", "--port-offset", str(OFFSET)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    pidfiles = [data / "run" / "single" / name / "pid.json" for name in ("kafka", "rabbitmq")]
    deadline = time.monotonic() + 60
    while not all(p.exists() for p in pidfiles) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(p.exists() for p in pidfiles), "the brokers were never spawned"
    deployment = native.single(OFFSET, data=data)
    children = [psutil.Process(pid) for node in deployment.nodes for pid in node.pids()]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Interrupted" in err
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert all(is_free(p) for p in all_ports(deployment))


def test_broker_dying_at_start_reports_its_log(data, tmp_path_factory):
    # A java that formats storage for real but crashes as soon as it is asked to run the broker.
    jdk = tmp_path_factory.mktemp("jdk")
    (jdk / "bin").mkdir()
    real = subprocess.run(["sh", "-c", "command -v java"], capture_output=True, text=True).stdout.strip()
    (jdk / "bin" / "java").write_text(
        "#!/bin/sh\n"
        f'case "$*" in *kafka.Kafka*) echo "FATAL simulated broker crash" ; exit 7 ;; esac\n'
        f'exec {real} "$@"\n')
    (jdk / "bin" / "java").chmod(0o755)
    old = os.environ.get("JAVA_HOME")
    os.environ["JAVA_HOME"] = str(jdk)
    try:
        with pytest.raises(BrokerlabError) as info:
            native.single(OFFSET, data=data).up(progress=lambda _m: None)
    finally:
        if old is None:
            os.environ.pop("JAVA_HOME")
        else:
            os.environ["JAVA_HOME"] = old
    assert "kafka-1 exited while starting (exit code 7)" in info.value.problem
    assert "FATAL simulated broker crash" in info.value.problem
    assert "kafka.log" in info.value.fix
    deployment = native.single(OFFSET, data=data)
    assert not any(node.process() for node in deployment.nodes)  # RabbitMQ was stopped too
    # The killed VM's sockets close as the kernel reaps it: a bounded wait, never a second broker.
    assert wait_for(lambda: all(is_free(p) for p in all_ports(deployment)), 10), [
        p for p in all_ports(deployment) if not is_free(p)]


def status_json(data: Path) -> dict:
    done = cli(data, "status", "--json")
    assert done.returncode in (0, 3), done.stderr
    return json.loads(done.stdout)


def tagged(data: Path) -> list[psutil.Process]:
    return processes.owned(data / "run")


@pytest.mark.slow
def test_lost_or_damaged_records_never_hide_a_broker(data):
    assert cli(data, "up").returncode == 0
    deployment = native.single(OFFSET, data=data)
    kafka, rabbit = deployment.kafka[0], deployment.rabbit[0]
    kafka_pid, rabbit_pid = kafka.process().pid, rabbit.process().pid

    # A record whose start stamp no longer matches (as a stepped clock once made it), a garbage
    # record, and no record at all: the brokers run on, and status says so.
    record = json.loads(kafka.pidfile.read_text())
    kafka.pidfile.write_text(json.dumps({**record, "start": record["start"] + 250}))
    status = status_json(data)
    assert status["kafka"]["nodes"][0]["orphans"] and "DOWN" not in cli(data, "status").stdout
    kafka.pidfile.write_text("{garbage")
    plain = cli(data, "status")
    assert plain.returncode == 3 and "running without a record (orphan)" in plain.stdout
    assert "cannot be read" in plain.stdout and kafka.pidfile.read_text() == "{garbage"
    rabbit.pidfile.unlink()
    status = status_json(data)
    assert rabbit_pid in status["rabbitmq"]["nodes"][0]["orphans"]
    assert kafka_pid in status["kafka"]["nodes"][0]["orphans"]

    # `up` replaces them: the ports they held are free for the new brokers.
    again = cli(data, "up")
    assert again.returncode == 0, again.stderr
    assert kafka.process().pid != kafka_pid and rabbit.process().pid != rabbit_pid
    assert not psutil.pid_exists(kafka_pid) and cli(data, "status").returncode == 0

    # The start script of RabbitMQ killed: its Erlang VM is re-parented and still serves.
    script = rabbit.process()
    beam = rabbit.graceful_target(script)
    assert beam.pid != script.pid
    script.kill()
    script.wait(10)
    assert beam.is_running() and beam.pid in status_json(data)["rabbitmq"]["nodes"][0]["orphans"]
    stopped = cli(data, "down")
    assert stopped.returncode == 0, stopped.stderr
    assert tagged(data) == [] and all(is_free(p) for p in all_ports(deployment))
    assert cli(data, "up").returncode == 0 and deployment.is_up()


@pytest.mark.slow
def test_status_during_up_and_two_ups_at_once(data):
    env = {**os.environ, "BROKERLAB_DATA_DIR": str(data)}
    command = [sys.executable, "-m", "brokerlab.cli", "up", "--port-offset", str(OFFSET)]
    ups = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
           for _ in range(2)]
    reports = []
    while any(p.poll() is None for p in ups):
        reports.append(status_json(data))
    outs = [p.communicate(timeout=10) for p in ups]
    assert [p.returncode for p in ups] == [0, 0], outs
    assert sum("Already up" in out for out, _ in outs) == 1  # the second waited, then found it up
    for report in reports:  # every node with a process is either alive or reported as an orphan
        for node in report["kafka"]["nodes"] + report["rabbitmq"]["nodes"]:
            assert not node["pids"] or node["alive"] or node["orphans"], node
    deployment = native.single(OFFSET, data=data)
    java = [p for p in tagged(data) if p.name() == "java"]
    assert len(java) == 1 and deployment.is_up()


@pytest.mark.slow
def test_sigterm_mid_start_stops_everything(data):
    env = {**os.environ, "BROKERLAB_DATA_DIR": str(data)}
    proc = subprocess.Popen([sys.executable, "-m", "brokerlab.cli", "up", "--port-offset", str(OFFSET)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    pidfiles = [data / "run" / "single" / name / "pid.json" for name in ("kafka", "rabbitmq")]
    assert wait_for(lambda: all(p.exists() for p in pidfiles), 60, 0.05), "never spawned"
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and "Stopped by SIGTERM" in err, err
    assert wait_for(lambda: tagged(data) == [], 10), tagged(data)
    assert cli(data, "up").returncode == 0


@pytest.mark.slow
def test_port_offset_change_is_refused_while_up(data):
    assert cli(data, "up").returncode == 0
    env = {**os.environ, "BROKERLAB_DATA_DIR": str(data)}
    moved = subprocess.run([sys.executable, "-m", "brokerlab.cli", "up", "--port-offset", str(OFFSET + 100)],
                           capture_output=True, text=True, env=env, timeout=60)
    assert moved.returncode == 1 and f"runs with port offset {OFFSET}" in moved.stderr
    assert native.single(OFFSET, data=data).is_up()


@pytest.mark.slow
def test_a_node_restarted_ten_times_in_a_row(data):
    assert cli(data, "up").returncode == 0
    kafka = native.single(OFFSET, data=data).kafka[0]
    seen = set()
    for _ in range(10):
        kafka.restart()
        assert kafka.is_alive() and kafka.is_listening() and kafka.orphans() == []
        seen.add(kafka.process().pid)
        assert len([p for p in tagged(data) if p.name() == "java"]) == 1
    assert len(seen) == 10
    assert cli(data, "status").returncode == 0


@pytest.mark.slow
def test_data_of_an_older_kafka_gets_the_pinned_release_features(data):
    """A learner's data formatted by the course's previous Kafka keeps its old features (share
    groups off) until they are upgraded: `up` finalizes the pinned release's features."""
    deployment = native.single(OFFSET, data=data)
    kafka = deployment.kafka[0]
    kafka.prepare()  # writes server.properties; formats with the pinned release...
    shutil.rmtree(kafka.data)  # ...which this test replaces by data of release 4.1
    formatted = subprocess.run(
        kafka._java("kafka.tools.StorageTool", "format", "--standalone", "-t", kafka.cluster_id,
                    "-c", str(kafka.home / "server.properties"), "--release-version", "4.1"),
        capture_output=True, text=True, timeout=120)
    assert formatted.returncode == 0, formatted.stderr
    kafka.formatted_by.unlink()
    assert kafka.older_data()
    assert cli(data, "up").returncode == 0
    described = subprocess.run(
        kafka._java("org.apache.kafka.tools.FeatureCommand", "--bootstrap-server", kafka.bootstrap,
                    "describe"), capture_output=True, text=True, timeout=120)
    share = next(line for line in described.stdout.splitlines() if "share.version" in line)
    assert "FinalizedVersionLevel: 0" not in share and not kafka.older_data(), described.stdout

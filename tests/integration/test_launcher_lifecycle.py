"""The native launcher end to end, on its own ports and data dir: start, crash, restart, stop, purge,
Ctrl+C, and a broker that dies while starting."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from brokerlab.brokers import native
from brokerlab.errors import BrokerlabError
from brokerlab.ports import is_free
from brokerlab.processes import wait_until

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
    assert wait_until(lambda: all(is_free(p) for p in all_ports(deployment)), 10), [
        p for p in all_ports(deployment) if not is_free(p)]

"""binder/start returns at once, runs the given command, and the brokers come up behind it; the
launch's status file says so."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brokerlab.brokers import launch, native
from brokerlab.errors import BrokerlabError
from brokerlab.settings import data_dir
from brokerlab.waiting import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
OFFSET = str(1200 + int(os.environ.get("BROKERLAB_PORT_OFFSET", "0")))  # clear of the suite's brokers


def test_start_script_launches_brokers_in_the_background(tmp_path):
    (tmp_path / "cache").symlink_to(data_dir() / "cache")
    env = {**os.environ, "BROKERLAB_DATA_DIR": str(tmp_path), "BROKERLAB_PORT_OFFSET": OFFSET,
           "TMPDIR": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    try:
        t0 = time.monotonic()
        # stderr to a file: the background launch keeps it, to print its one-line summary there
        with open(tmp_path / "start.stderr", "w") as stderr:
            result = subprocess.run([str(ROOT / "binder" / "start"), "echo", "the notebook server runs"],
                                    stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, timeout=30)
        handed_over = time.monotonic() - t0
        assert result.returncode == 0 and result.stdout.strip() == "the notebook server runs"
        assert handed_over < 10, f"start took {handed_over:.1f} s to hand over"
        deadline = time.monotonic() + 120
        status: dict = {}
        while time.monotonic() < deadline:
            out = subprocess.run([sys.executable, "-m", "brokerlab.cli", "status", "--json"],
                                 capture_output=True, text=True, env=env, timeout=60)
            status = json.loads(out.stdout)
            if status["kafka"]["up"] and status["rabbitmq"]["up"]:
                break
            time.sleep(2)
        log = tmp_path / "run" / "launch.log"
        assert status["kafka"]["up"] and status["rabbitmq"]["up"], log.read_text() if log.exists() else ""
        assert status["kafka"]["bootstrap_servers"] == f"127.0.0.1:{9092 + int(OFFSET)}"
        state_file = tmp_path / "run" / "launch.json"  # written just after `up` returns
        assert wait_for(lambda: getattr(launch.read_status(state_file), "state", None) == "up", 30), \
            launch.read_status(state_file)
        summary = tmp_path / "start.stderr"  # the one line for the container's log
        assert wait_for(lambda: "brokerlab: Kafka and RabbitMQ are up" in summary.read_text(), 10), \
            summary.read_text()
    finally:
        stop_when_idle(native.single(int(OFFSET), data=tmp_path))


def stop_when_idle(deployment: native.NativeDeployment, timeout: float = 120) -> None:
    """Stop the brokers once the background `brokerlab up` has let go of its lock."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            deployment.down()
            return
        except BrokerlabError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)

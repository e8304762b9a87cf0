"""binder/start's launch (one retry, a status file, a visible summary) and notebook 00's recovery
message in each environment: native checkout, Binder, Docker Compose, a named cluster."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from brokerlab.brokers import launch
from brokerlab.course import recovery
from brokerlab.errors import BrokerlabError
from brokerlab.settings import endpoints

ROOT = Path(__file__).resolve().parents[2]
ENV_KEYS = ("KAFKA_BOOTSTRAP_SERVERS", "RABBITMQ_URL", "RABBITMQ_MANAGEMENT_URL", "BROKERLAB_BACKEND",
            "BINDER_LAUNCH_HOST")


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path))
    return tmp_path


def flaky_up(failures: int):  # type: ignore[no-untyped-def]
    calls = []

    def up() -> None:
        calls.append(1)
        if len(calls) <= failures:
            raise BrokerlabError(f"Port(s) already in use (call {len(calls)}).", "stop it")
    return up, calls


def test_launch_retries_once_and_records_up(data_dir: Path) -> None:
    up, calls = flaky_up(1)
    status = launch.launch(up, data_dir / "launch.log")
    assert len(calls) == 2 and status.state == "up" and status.attempt == 2
    assert launch.read_status() == status


def test_launch_gives_up_after_two_attempts_and_says_why(data_dir: Path) -> None:
    up, calls = flaky_up(5)
    status = launch.launch(up, data_dir / "launch.log")
    assert len(calls) == 2 and status.state == "failed"
    assert status.error == "Port(s) already in use (call 2)."
    assert launch.read_status() == status


def test_run_sends_output_to_the_log_and_one_line_to_stderr(data_dir: Path) -> None:
    code = ("from brokerlab.brokers import launch\nfrom brokerlab.errors import BrokerlabError\n"
            "def up():\n    print('starting kafka')\n"
            "    raise BrokerlabError('Java is not installed.', 'apt')\n"
            "raise SystemExit(launch.run(up, launch.default_log()))")
    result = subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "BROKERLAB_DATA_DIR": str(data_dir)}, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert "the brokers did NOT start (2 attempts): Java is not installed." in result.stderr
    assert str(data_dir / "run" / "launch.log") in result.stderr
    log = (data_dir / "run" / "launch.log").read_text()
    assert log.count("starting kafka") == 2 and "did NOT start" in log


def test_start_script_runs_the_launch_in_the_background() -> None:
    start = (ROOT / "binder" / "start").read_text()
    assert "brokerlab launch" in start and "&" in start
    post_build = (ROOT / "binder" / "postBuild").read_text()
    lines = [line for line in post_build.splitlines() if line and not line.startswith("#")]
    assert lines[-2:] == ["trap 'brokerlab down --purge' EXIT", "brokerlab up"]


def binder_status(data_dir: Path, state: str, pid: int | None = None) -> None:
    launch._write(launch.LaunchStatus(state, 2 if state == "failed" else 1, 2,
                                      str(data_dir / "run" / "launch.log"),
                                      error="Java is not installed." if state == "failed" else "", pid=pid),
                  launch.status_path())


def test_native_hint_names_make_up_and_the_logs(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recovery.settings, "project_root", lambda: ROOT)
    ep = endpoints()
    assert recovery.environment(ep) == "native"
    text = recovery.hint(ep)
    if (ROOT / ".venv").is_dir():
        assert "`make up`" in text and ".venv/bin/brokerlab up" in text
    assert str(data_dir / "run" / "single") in text


def test_native_hint_without_a_venv_says_brokerlab_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recovery.settings, "project_root", lambda: None)
    text = recovery.hint(endpoints())
    assert "`brokerlab up` in a terminal" in text and ".venv" not in text and "make" not in text


@pytest.mark.parametrize(("state", "alive", "says"), [
    ("starting", True, "still starting (attempt 1 of 2"),
    ("starting", False, "The launch was interrupted"),
    ("failed", False, "failed at launch, 2 times: Java is not installed."),
    ("up", False, "started at launch but do not answer now"),
])
def test_binder_hint_reads_the_launch_status(data_dir: Path, state: str, alive: bool, says: str) -> None:
    binder_status(data_dir, state, pid=os.getpid() if alive else 2**22 + 1)
    ep = endpoints()
    assert recovery.environment(ep) == "binder"
    text = recovery.hint(ep)
    assert says in text and str(data_dir / "run" / "launch.log") in text
    assert ".venv" not in text and "make " not in text  # Binder has neither
    if state != "starting" or not alive:
        assert "File → New → Terminal) and run: brokerlab up" in text


def test_binder_hint_without_a_launch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINDER_LAUNCH_HOST", "https://mybinder.org/")
    text = recovery.hint(endpoints())
    assert "binder/start) did not start the brokers" in text and text.endswith("brokerlab up")


def test_compose_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROKERLAB_BACKEND", "compose")
    text = recovery.hint(endpoints())
    assert "docker compose up -d --wait" in text and "Engine 25+" in text and "brokerlab up" not in text


def test_external_hint_never_prints_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "class-server:9092")
    monkeypatch.setenv("RABBITMQ_URL", "amqp://alice:s3cret@class-server:5672/%2F")
    ep = endpoints()
    assert recovery.environment(ep) == "external"
    text = recovery.hint(ep)
    assert "class-server:9092" in text and "class-server:5672" in text and "s3cret" not in text
    assert "brokerlab up" not in text  # nothing here starts someone else's cluster


def test_make_lab_docker_runs_no_native_setup_or_broker() -> None:
    dry = subprocess.run(["make", "-n", "lab-docker"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "scripts/setup.sh --python-only" in dry and "docker compose up -d --wait" in dry
    assert "BROKERLAB_BACKEND=compose .venv/bin/jupyter lab" in dry
    assert "brokerlab up" not in dry and "scripts/setup.sh\n" not in dry


def test_python_only_setup_skips_java_rabbitmq_and_jars() -> None:
    script = (ROOT / "scripts" / "setup.sh").read_text()
    body = script[script.index('[ "$python_only" = 1 ] || {'):script.index("# --- .venv")]
    assert "java_ok" in body and "rabbit_ok" in body  # the system checks sit inside the skipped block
    jars = script.index("brokerlab fetch")
    assert script.index('[ "$python_only" = 0 ] || {') < jars  # it stops before the jars


def test_worker_scratch_stays_in_the_data_dir_and_replaces_killed_kernels_leftovers(data_dir: Path) -> None:
    from brokerlab.observe import workers

    root = data_dir / "run" / "workers"
    killed, alive = root / f"{2**22 + 1}-abc", root / f"{os.getpid()}-def"  # above pid_max: no process
    killed.mkdir(parents=True)
    alive.mkdir()
    path = workers._scratch.__wrapped__()  # a fresh kernel's first worker
    assert path.parent == root and path.name.startswith(f"{os.getpid()}-")
    assert not killed.exists() and alive.exists()

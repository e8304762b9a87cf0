"""The Binder launch, done as repo2docker does it, kept proven (`make test-binder`).

As root (CI is), the test creates a non-root user with an empty HOME and a fresh copy of this
checkout it owns. As that user it installs the pip part of binder/environment.yml into its own
environment, runs binder/postBuild (which starts the brokers once and stops them), runs
binder/start with JupyterLab after it, and executes notebooks 00, 02 and 03 under nbval against the
brokers that start launched, sampling the memory of everything the user runs. It fails when a step
fails (so when one needs root), when the user wrote outside its HOME and the copy, when a process
of the user outlives `brokerlab down`, or when brokers + JupyterLab + the kernel peak above 1.8 GiB.
Times and memory go to test-artifacts/binder-launch.json.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
import yaml

from brokerlab.waiting import wait_for

pytestmark = pytest.mark.binder
ROOT = Path(__file__).resolve().parents[2]
# Clear of the suite's brokers (offset 0), test_binder_start (1200) and the helpers' offsets (< 1000).
OFFSET = 1300 + int(os.environ.get("BROKERLAB_PORT_OFFSET", "0"))
NOTEBOOKS = ("00_welcome_and_setup_check", "02_kafka_walkthrough", "03_rabbitmq_walkthrough")
BUDGET = int(1.8 * 2**30)  # brokers + JupyterLab + kernel, under Binder's 2 GB with room to spare
TEST_TOOLS = ("pytest", "nbval", "pytest-timeout")  # the harness: not part of the Binder image
# The image build (wheels, venv, pip, postBuild) happens before a Binder user arrives. Under `make
# test` it shares the cores with lanes that measure (the benchmark lessons), so it runs at a low
# CPU priority; the launch and the notebooks run at the normal one.
BUILD = ["nice", "-n", "10"]
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # where else a user can write
PASS_THROUGH = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT", "PIP_DEFAULT_TIMEOUT",
                "PIP_DISABLE_PIP_VERSION_CHECK", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
                "http_proxy", "https_proxy", "no_proxy", "JAVA_HOME")
BROKER_PROCESSES = {"java", "beam.smp", "epmd", "erl_child_setup", "inet_gethost", "heart"}


def system_python() -> str | None:
    """A Python 3.11+ any user can run (repo2docker brings its own; the test uses the OS one)."""
    for name in ("python3.13", "python3.12", "python3.11", "python3"):
        found = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin")
        if found and subprocess.run([found, "-c", "import sys, venv, ensurepip; "
                                     "sys.exit(sys.version_info < (3, 11))"]).returncode == 0:
            return found
    return None


class BinderUser:
    """A throwaway user with an empty HOME and its own copy of the checkout."""

    def __init__(self, base: Path) -> None:
        self.name = f"blbinder{os.getpid() % 100000}"
        self.base = base
        self.home = base / "home"
        self.repo = base / "repo"
        self.env_dir = self.home / "env"
        subprocess.run(["useradd", "--no-create-home", "--home-dir", str(self.home), "--shell", "/bin/bash",
                        "--user-group", self.name], check=True)
        entry = pwd.getpwnam(self.name)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.home.mkdir(mode=0o755)
        os.chown(self.home, self.uid, self.gid)

    def env(self, **extra: str) -> dict[str, str]:
        """A login-like environment: nothing of root's but the machine's pip/proxy settings."""
        env = {"HOME": str(self.home), "USER": self.name, "LOGNAME": self.name, "SHELL": "/bin/bash",
               "LANG": "C.UTF-8", "PATH": f"{self.env_dir}/bin:/usr/local/bin:/usr/bin:/bin",
               "BROKERLAB_PORT_OFFSET": str(OFFSET)}
        env.update({k: os.environ[k] for k in PASS_THROUGH if k in os.environ})
        env.update(extra)
        return env

    def run(self, cmd: list[str], timeout: float, **extra: str) -> float:
        """Run ``cmd`` as the user in its copy; fail with its output; return the seconds it took."""
        t0 = time.monotonic()
        result = subprocess.run(cmd, cwd=self.repo, env=self.env(**extra), user=self.uid, group=self.gid,
                                extra_groups=[], capture_output=True, text=True, timeout=timeout)
        seconds = time.monotonic() - t0
        assert result.returncode == 0, (f"{' '.join(cmd)} failed as {self.name} ({result.returncode}):\n"
                                        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return seconds

    def popen(self, cmd: list[str], log: Path) -> subprocess.Popen:
        with open(log, "wb") as out:
            return subprocess.Popen(cmd, cwd=self.repo, env=self.env(), user=self.uid, group=self.gid,
                                    extra_groups=[], stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT)

    def processes(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["uids"]):
            uids = proc.info["uids"]
            if uids is not None and uids.real == self.uid:
                found.append(proc)
        return found

    def remove(self) -> None:
        """Kill whatever the user still runs (each by its pid), delete the user and its files."""
        for _ in range(3):
            procs = self.processes()
            if not procs:
                break
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            psutil.wait_procs(procs, timeout=10)
        left = written_outside(self)
        if left:
            subprocess.run(["rm", "-rf", "--", *left], check=False)
        subprocess.run(["userdel", self.name], check=False)
        shutil.rmtree(self.base, ignore_errors=True)


def copy_checkout(target: Path) -> None:
    """What a fresh clone of this checkout holds: tracked and new files, as they are now."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name, follow_symlinks=False)


def wheelhouse(python: str, requirements: list[str]) -> Path:
    """The requirements as wheels for ``python`` (the user's interpreter: versions are resolved for
    it), built once by the harness: the user installs exactly those specifiers from it, as
    repo2docker would from PyPI, in seconds and without the network."""
    key = "\n".join([python, *sorted(requirements)])
    wheels = ROOT / ".brokerlab" / "binder-wheels"
    stamp = wheels / f".complete-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    if not stamp.is_file():
        shutil.rmtree(wheels, ignore_errors=True)
        builder = wheels / ".builder"
        subprocess.run([*BUILD, python, "-m", "venv", str(builder)], check=True, timeout=300)
        subprocess.run([*BUILD, str(builder / "bin" / "python"), "-m", "pip", "wheel", "-q", "--wheel-dir",
                        str(wheels), *requirements], check=True, timeout=1200)
        shutil.rmtree(builder)
        stamp.touch()
    return wheels


def pip_requirements() -> list[str]:
    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    return next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)


def harness_requirements() -> list[str]:
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    return [r for r in dev if r.split(">")[0].split("=")[0].split("[")[0] in TEST_TOOLS]


class MemorySampler:
    """Samples the RSS of every process of a user, by role, every 0.2 s; keeps the peaks."""

    def __init__(self, user: BinderUser, server_pid: int) -> None:
        self.user, self.server_pid = user, server_pid
        self.peaks: dict[str, dict[str, int]] = {}
        self.phase = "idle"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def role(self, proc: psutil.Process) -> str:
        if proc.pid == self.server_pid:
            return "jupyterlab"
        name = proc.name()
        if name in BROKER_PROCESSES:
            return "brokers"
        cmdline = " ".join(proc.cmdline())
        if "ipykernel_launcher" in cmdline:
            return "kernel"
        return "harness" if "pytest" in cmdline else "other"

    def sample(self) -> dict[str, int]:
        by_role: dict[str, int] = {}
        for proc in self.user.processes():
            try:
                role, rss = self.role(proc), proc.memory_info().rss
            except psutil.Error:
                continue
            by_role[role] = by_role.get(role, 0) + rss
        by_role["course"] = sum(by_role.get(r, 0) for r in ("brokers", "jupyterlab", "kernel", "other"))
        return by_role

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            sample = self.sample()
            peak = self.peaks.setdefault(self.phase, {})
            if sample["course"] > peak.get("course", 0):
                peak.clear()
                peak.update(sample)


@pytest.fixture
def binder_user() -> Iterator[BinderUser]:
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("creating the Binder-like user needs root and useradd (CI runs as root)")
    base = Path(tempfile.mkdtemp(prefix="brokerlab-binder-"))
    base.chmod(0o755)
    user = BinderUser(base)
    try:
        user.repo.mkdir()
        copy_checkout(user.repo)
        shutil.rmtree(user.repo / ".brokerlab", ignore_errors=True)
        subprocess.run(["chown", "-R", f"{user.uid}:{user.gid}", str(user.repo)], check=True)
        yield user
    finally:
        user.remove()


def written_outside(user: BinderUser) -> list[str]:
    found = subprocess.run(["find", *[d for d in WORLD_WRITABLE if Path(d).is_dir()], "-xdev",
                            "-user", user.name, "-not", "-path", f"{user.base}*"],
                           capture_output=True, text=True).stdout.split()
    return found


@pytest.mark.timeout(1500)  # its steps' own timeouts bound it; the suite's 600 s is for one step
def test_binder_launch_as_a_user(binder_user: BinderUser) -> None:
    user = binder_user
    python = system_python()
    if python is None:
        pytest.skip("no Python 3.11+ in /usr/bin for the Binder-like user")
    report: dict[str, object] = {"offset": OFFSET, "user": user.name}
    t_all = time.monotonic()
    seconds: dict[str, float] = {}
    t0 = time.monotonic()
    wheels = user.base / "wheels"
    shutil.copytree(wheelhouse(python, pip_requirements() + harness_requirements()), wheels)
    wheels.chmod(0o755)
    seconds["wheelhouse (harness, as root)"] = time.monotonic() - t0
    seconds["venv"] = user.run([*BUILD, python, "-m", "venv", str(user.env_dir)], 120)
    pip = [*BUILD, str(user.env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index",
           "--find-links", str(wheels)]
    seconds["pip environment.yml"] = user.run([*pip, *pip_requirements()], 900)
    seconds["pip test tools"] = user.run([*pip, *harness_requirements()], 300)
    seconds["postBuild"] = user.run([*BUILD, "bash", "binder/postBuild"], 900)

    token = os.urandom(12).hex()
    port = 8888 + OFFSET
    run_dir = user.repo / ".brokerlab" / "run"
    server_log = user.base / "start.log"
    t0 = time.monotonic()
    server = user.popen([str(user.repo / "binder" / "start"), "jupyter", "lab", "--no-browser",
                         "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}"], server_log)
    try:
        assert wait_for(lambda: answers(f"http://127.0.0.1:{port}/api/status", token), 120), \
            server_log.read_text()[-3000:]
        seconds["start to JupyterLab answering"] = time.monotonic() - t0
        assert "jupyter" in " ".join(psutil.Process(server.pid).cmdline()), "start did not exec its command"
        with MemorySampler(user, server.pid) as memory:
            memory.phase = "start"
            status = lambda: read_json(run_dir / "launch.json")  # noqa: E731
            assert wait_for(lambda: status().get("state") in ("up", "failed"), 240), status()
            assert status()["state"] == "up", (run_dir / "launch.log").read_text()[-3000:]
            seconds["start to brokers ready"] = time.monotonic() - t0
            report["launch"] = status()
            for notebook in NOTEBOOKS:
                memory.phase = notebook
                seconds[notebook] = user.run(
                    [str(user.env_dir / "bin" / "python"), "-m", "pytest", "--nbval-lax",
                     "--nbval-current-env", "-p", "no:cacheprovider", "-q", f"notebooks/{notebook}.ipynb"],
                    600, BROKERLAB_STRICT="1", BROKERLAB_BENCH_MODE="quick")
        report["memory_peaks_mib"] = {phase: {role: round(b / 2**20) for role, b in peak.items()}
                                      for phase, peak in memory.peaks.items()}
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    seconds["brokerlab down"] = user.run(["brokerlab", "down"], 120)
    assert wait_for(lambda: not user.processes(), 30), \
        "still running after `brokerlab down`: " + ", ".join(f"{p.pid} {p.name()}" for p in user.processes())
    outside = written_outside(user)
    seconds["total"] = time.monotonic() - t_all
    report["seconds"] = {k: round(v, 1) for k, v in seconds.items()}
    save(report)
    assert not outside, f"the Binder chain wrote outside HOME and the clone: {outside}"
    course_peak = max(peak["course"] for peak in memory.peaks.values())
    assert course_peak < BUDGET, (f"brokers + JupyterLab + kernel peaked at {course_peak / 2**20:.0f} MiB "
                                  f"(budget {BUDGET / 2**20:.0f}): {report['memory_peaks_mib']}")


def answers(url: str, token: str) -> bool:
    try:
        return requests.get(url, headers={"Authorization": f"token {token}"}, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def save(report: dict) -> None:
    out = ROOT / "test-artifacts" / "binder-launch.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2), file=sys.stderr)

"""`brokerlab doctor`: everything the native backend needs, and the exact command that fixes each gap."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import psutil

from brokerlab import settings
from brokerlab.brokers import cgroup, kafka_native, launch, maven, native, rabbitmq_native
from brokerlab.brokers.ports import is_free
from brokerlab.errors import BrokerlabError

MIN_AVAILABLE_MEMORY = 1536 * 2**20  # single Kafka + RabbitMQ + JupyterLab + a kernel, with headroom
MIN_FREE_DISK = 2 * 2**30


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _guarded(name: str, probe) -> Check:  # type: ignore[no-untyped-def]
    try:
        return Check(name, True, probe())
    except BrokerlabError as exc:
        return Check(name, False, exc.problem, exc.fix)


def run_checks(offset: int | None = None) -> list[Check]:
    """Every check, in the order a learner should fix them."""
    data = settings.data_dir()
    checks = [
        _guarded("Java 17+", lambda: kafka_native.java_executable()),
        _guarded("rabbitmq-server", rabbitmq_native.server_script),
        _jars_check(data / "cache"),
    ]
    deployment = native.single(offset)
    mine = {port for node in deployment.nodes if node.process() for _, port in node.ports()}
    busy = [(label, port) for node in deployment.nodes for label, port in node.ports()
            if port not in mine and not is_free(port)]
    checks.append(Check(
        "free ports", not busy,
        "all free (or used by the course's own brokers)" if not busy
        else "busy: " + ", ".join(f"{p} ({label})" for label, p in busy),
        "" if not busy else f"Stop the owner (ss -ltnp | grep :{busy[0][1]}) or use "
                            "`brokerlab up --port-offset 100`",
    ))
    own = sum(node.rss() for node in deployment.nodes)  # the course's brokers: already counted in
    checks.extend(memory_checks(psutil.virtual_memory().available, own, cgroup.memory_limit()))
    disk_path = data if data.exists() else Path.home()
    free = shutil.disk_usage(disk_path).free
    checks.append(Check(
        "disk", free >= MIN_FREE_DISK, f"{free / 2**30:.1f} GiB free at {disk_path}",
        "Free space, or move the data: export BROKERLAB_DATA_DIR=/path/with/space",
    ))
    status = launch.read_status()
    if status is not None and status.state == "failed" and not deployment.is_up():
        checks.append(Check("Binder launch", False, f"binder/start could not start the brokers "
                            f"({status.attempts} attempts): {status.error}; log: {status.log}",
                            "brokerlab up"))
    return checks


def memory_checks(host_available: int, own_rss: int, limit: cgroup.MemoryLimit | None) -> list[Check]:
    """Free memory for the course (inside the container's limit when there is one; the course's own
    running brokers count as available to it), and the container's limit itself."""
    available = min(host_available, limit.available) if limit else host_available
    need = MIN_AVAILABLE_MEMORY / 2**20
    fix = "Close other programs, or use an existing cluster via KAFKA_BOOTSTRAP_SERVERS/RABBITMQ_URL"
    brokers = f" + {own_rss / 2**20:.0f} MiB used by the course's brokers" if own_rss else ""
    checks = [Check(
        "memory", available + own_rss >= MIN_AVAILABLE_MEMORY,
        f"{available / 2**20:.0f} MiB available{brokers} (need {need:.0f})", fix)]
    if limit is not None:
        checks.append(Check(
            "container memory limit", limit.limit >= MIN_AVAILABLE_MEMORY,
            f"{limit.limit / 2**20:.0f} MiB (cgroup v{limit.version}, {limit.path}); "
            f"the course needs {need:.0f}",
            "This container is too small for Kafka + RabbitMQ + JupyterLab: give it more memory "
            "(docker run --memory 2g), or use an existing cluster via KAFKA_BOOTSTRAP_SERVERS/RABBITMQ_URL"))
    return checks


def _jars_check(cache: Path) -> Check:
    try:
        version = maven.KAFKA.version()
    except BrokerlabError as exc:
        return Check("Kafka jars", False, exc.problem, exc.fix)
    if maven.KAFKA.cached(cache):
        return Check("Kafka jars", True, f"Kafka {version} cached in {maven.KAFKA.jar_dir(cache)}")
    has_mvn = shutil.which("mvn") is not None
    return Check(
        "Kafka jars", False, f"Kafka {version} jars not cached yet",
        "brokerlab fetch   (or make setup)" if has_mvn
        else "sudo apt-get install -y maven && brokerlab fetch",
    )

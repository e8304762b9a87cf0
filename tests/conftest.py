"""Fixtures that hand each test its brokers.

Like confluent-kafka-python's own suite: use the cluster named in the environment if there is one,
else the course's native brokers when they already run, else throwaway containers when a Docker
engine answers, else start the native brokers (and stop them at the end of the session).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from brokerlab.settings import Endpoints, endpoints
from tests.memory_peaks import binder_ready, notebook_source

ENV_KEYS = ("KAFKA_BOOTSTRAP_SERVERS", "RABBITMQ_URL", "RABBITMQ_MANAGEMENT_URL")


def choose_source(env: dict[str, str], native_up: bool, docker_up: bool) -> str:
    """Which brokers the tests use: 'environment', 'native-running', 'testcontainers' or 'native'."""
    if any(env.get(k) for k in ENV_KEYS):
        return "environment"
    if native_up:
        return "native-running"
    if docker_up:
        return "testcontainers"
    return "native"


TESTS = Path(__file__).resolve().parent
NEEDS_BROKERS = (TESTS / "integration", TESTS / "browser")
# These run after every notebook of the session, and in every lane that executes notebooks.
LAST = ("test_reference_runs_leave_no_progress.py", "test_binder_memory.py")
SUITE_PROGRESS = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Notebooks executed by the suite record their checker runs in a folder of this session, never
    in the learner's own progress; the last test reads it (see LAST)."""
    import shutil

    artifacts = Path(config.rootpath) / "test-artifacts"
    for old in artifacts.glob("progress-*"):  # earlier sessions' folders (their pytest has ended)
        if not old.name.removeprefix("progress-").isdigit() or not psutil.pid_exists(
                int(old.name.removeprefix("progress-"))) or old.name == f"progress-{os.getpid()}":
            shutil.rmtree(old, ignore_errors=True)
    folder = artifacts / f"progress-{os.getpid()}"
    config.stash[SUITE_PROGRESS] = folder
    os.environ["BROKERLAB_PROGRESS_DIR"] = str(folder)


LANES = ("cluster", "labs", "lessons", "bench", "binder")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--lane", choices=LANES, default=None,
                     help="run one lane of `make test` (scripts/test.sh runs them side by side): cluster "
                          "(what uses the 3+3 cluster), labs (the other labs and their checkers' tests), "
                          "lessons (the lessons and every other test), bench (the benchmark lessons and "
                          "the benchmarks' tests), "
                          "binder (the Binder launch)")


def lane_of(item: pytest.Item) -> str:
    """The lane of ``make test`` that runs ``item`` (see scripts/test.sh)."""
    path = Path(str(item.fspath))
    if item.get_closest_marker("binder"):
        return "binder"
    if path.suffix == ".ipynb":
        if not binder_ready(path):
            return "cluster"
        if path.parent.name == "labs":
            return "labs"
        return "bench" if "brokerlab.bench" in notebook_source(path) else "lessons"
    if item.get_closest_marker("cluster") or "lab" in getattr(item, "fixturenames", ()):
        return "cluster"
    if path.name.startswith("test_bench_"):
        return "bench"
    return "labs" if path.name.startswith("test_exercise_lab_") else "lessons"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tiers: every notebook cell is an integration test (it runs against live brokers), and a
    test under tests/integration or tests/browser must say so, so `-m "not integration"` (make
    test-fast) never starts or needs a broker. With --lane, only that lane's tests run."""
    unmarked = []
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.integration)
        elif path.is_relative_to(TESTS) and any(path.is_relative_to(d) for d in NEEDS_BROKERS) \
                and item.get_closest_marker("integration") is None:
            unmarked.append(item.nodeid)
    if unmarked:
        raise pytest.UsageError("tests that need brokers without the integration marker: "
                                + ", ".join(unmarked[:5]))
    lane = config.getoption("lane")
    if lane:
        keep = [item for item in items if lane_of(item) == lane]
        notebooks = {Path(str(item.fspath)) for item in keep if Path(str(item.fspath)).suffix == ".ipynb"}
        wanted = {LAST[0]} if notebooks else set()  # the progress check, after any notebook
        if any(binder_ready(path) for path in notebooks):
            wanted.add(LAST[1])  # the memory budget, after a Binder-ready one
        keep += [item for item in items if Path(str(item.fspath)).name in wanted and item not in keep]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = [item for item in items if item in keep]
    elif "binder" not in (config.getoption("markexpr") or ""):
        for item in items:
            if item.get_closest_marker("binder"):
                item.add_marker(pytest.mark.skip(reason="the Binder launch test runs in make test's "
                                                        "binder lane, or alone with make test-binder"))
    # The tests that use the 3+3 cluster run one after another, where the first of them was, so
    # the cluster is formed once (SharedCluster). Each module keeps its own order.
    users = [item for item in items if "lab" in getattr(item, "fixturenames", ())]
    if users:
        first = items.index(users[0])
        rest = [item for item in items if item not in set(users)]
        items[:] = rest[:first] + users + rest[first:]
    items.sort(key=lambda item: Path(str(item.fspath)).name in LAST)  # stable: only LAST moves


@pytest.fixture
def suite_progress(request) -> Path:
    """The folder where the notebooks executed by this session recorded their checker runs."""
    return request.config.stash[SUITE_PROGRESS]


@pytest.fixture(autouse=True)
def private_progress(monkeypatch, tmp_path_factory):
    """Checker runs in tests must not show up as the learner's own progress."""
    monkeypatch.setenv("BROKERLAB_PROGRESS_DIR", str(tmp_path_factory.mktemp("progress")))


@pytest.fixture(scope="session")
def brokers() -> Iterator[Endpoints]:
    """Endpoints of one live Kafka and one live RabbitMQ for the whole test session."""
    from brokerlab.brokers import native
    from brokerlab.brokers.compose import docker_available

    deployment = native.single()
    env = dict(os.environ)
    native_up = False if any(env.get(k) for k in ENV_KEYS) else deployment.is_up()
    source = choose_source(env, native_up, False if native_up else docker_available())
    if source in ("environment", "native-running"):
        yield endpoints()
    elif source == "testcontainers":
        from brokerlab.brokers.containers import kafka_and_rabbitmq

        with kafka_and_rabbitmq() as eps:
            yield eps
    else:
        deployment.up(progress=lambda _m: None)
        try:
            yield endpoints()
        finally:
            deployment.down()


class SharedCluster:
    """The course's native 3+3 cluster, formed once for all the tests that use it (they run one
    after another: see pytest_collection_modifyitems) and stopped after the last of them, if this
    session started it."""

    def __init__(self) -> None:
        self.cluster = None
        self.started_here = False

    def get(self):  # type: ignore[no-untyped-def]
        from brokerlab.brokers.cluster import Cluster

        if self.cluster is None:
            self.cluster = Cluster()
            self.started_here = not self.cluster.deployment.is_up()
        self.cluster.up()  # forms it, or repairs what a test left dead or paused
        return self.cluster

    def release(self) -> None:
        if self.cluster is not None and self.started_here:
            self.cluster.down()
        self.cluster = None


SHARED_CLUSTER = SharedCluster()


@pytest.fixture(scope="module")
def lab():
    """The 3+3 cluster for one test module; every node runs again afterwards, whatever a test killed
    or paused, so the next module starts from a healthy cluster."""
    cluster = SHARED_CLUSTER.get()
    yield cluster
    for node in cluster.deployment.nodes:
        node.resume()
    if cluster.unhealthy():
        cluster.up()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last test in a row that uses the cluster, hand its memory and CPU back."""
    uses = "lab" in getattr(item, "fixturenames", ())
    next_uses = nextitem is not None and "lab" in getattr(nextitem, "fixturenames", ())
    if uses and not next_uses:
        SHARED_CLUSTER.release()

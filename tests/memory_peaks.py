"""Peak memory per notebook, sampled while the suite executes it (the 2 GB budget of Binder).

Every 0.5 s, while a notebook's cells run: the memory of the single broker pair, of the 3+3 cluster,
and of the notebook's kernel with every process it started (workers, JVM tools), brokers excepted.
Memory is PSS (proportional set size): the workers are forked from the kernel and share its pages,
so summing their RSS would count those pages once per worker; PSS splits each shared page among
its sharers, so the sum is what the processes take together, as a container's memory limit counts.
A notebook's ``binder`` figure is the largest sum, at one instant, of what a Binder pod would hold:
the pair and the kernel's tree. Saved to test-artifacts/memory-<lane>.json at the end of the session;
test_binder_memory.py holds the Binder-ready notebooks to the budget; scripts/memory_table.py prints
the README's table from the saved files.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
from pathlib import Path

import psutil
import pytest

from brokerlab.brokers import processes
from brokerlab.settings import data_dir

ROLES = ("pair", "cluster", "kernel")
RESCAN_S = 5.0  # how often the broker processes are looked up again (reading RSS is cheap)


class NotebookMemory:
    """Samples memory by role in a thread, and keeps each notebook's peaks."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.peaks: dict[str, dict[str, int]] = {}
        self._brokers: dict[str, list[psutil.Process]] = {"pair": [], "cluster": []}
        self._scanned = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memory-peaks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _kernel_tree(self, brokers: set[int]) -> list[psutil.Process]:
        found: list[psutil.Process] = []
        for child in psutil.Process().children(recursive=False):
            with contextlib.suppress(psutil.Error):
                if "ipykernel" in " ".join(child.cmdline()):
                    found += [p for p in processes.tree(child) if p.pid not in brokers]
        return found

    def sample(self) -> dict[str, int]:
        """PSS in bytes by role, and ``binder``: the pair and the kernel's tree together."""
        if time.monotonic() - self._scanned > RESCAN_S:
            run = data_dir() / "run"
            self._brokers = {"pair": processes.owned(run / "single"),
                             "cluster": processes.owned(run / "cluster")}
            self._scanned = time.monotonic()
        broker_pids = {p.pid for procs in self._brokers.values() for p in procs}
        pss = {role: total_pss(procs) for role, procs in self._brokers.items()}
        pss["kernel"] = total_pss(self._kernel_tree(broker_pids))
        pss["binder"] = pss["pair"] + pss["kernel"]
        return pss

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            notebook = self.current
            if notebook is None:
                continue
            with contextlib.suppress(psutil.Error):
                pss = self.sample()
                peak = self.peaks.setdefault(notebook, dict.fromkeys((*ROLES, "binder"), 0))
                for role, value in pss.items():
                    peak[role] = max(peak[role], value)

    def save(self, path: Path) -> None:
        mib = {nb: {role: round(v / 2**20) for role, v in peak.items()} for nb, peak in self.peaks.items()}
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(mib, indent=2, sort_keys=True) + "\n")


def total_pss(procs: list[psutil.Process]) -> int:
    """The processes' proportional set size together, in bytes (RSS where PSS is not reported)."""
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            info = proc.memory_full_info()
            total += getattr(info, "pss", info.rss)
    return total


MEMORY = pytest.StashKey[NotebookMemory]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[MEMORY] = NotebookMemory()
    config.stash[MEMORY].start()


def pytest_runtest_setup(item: pytest.Item) -> None:
    path = Path(str(item.fspath))
    config_memory = item.config.stash[MEMORY]
    config_memory.current = f"{path.parent.name}/{path.name}" if path.suffix == ".ipynb" else None


def pytest_unconfigure(config: pytest.Config) -> None:
    memory = config.stash[MEMORY]
    memory.stop()
    if memory.peaks:
        lane = config.getoption("lane", None)
        memory.save(Path(config.rootpath) / "test-artifacts" / f"memory{'-' + lane if lane else ''}.json")


@functools.cache
def notebook_source(notebook: Path) -> str:
    """A notebook's file, read once per run."""
    return notebook.read_text()


def binder_ready(notebook: Path) -> bool:
    """A notebook fits Binder unless it needs the 3+3 cluster (six more brokers)."""
    return "Cluster(" not in notebook_source(notebook)

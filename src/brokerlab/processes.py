"""Background broker processes: start detached, record a PID file, stop the whole tree, measure RSS."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from brokerlab.errors import BrokerlabError


@dataclass(frozen=True)
class PidRecord:
    """A PID with its start time, so a reused PID is never mistaken for our broker."""

    pid: int
    create_time: float

    def process(self) -> psutil.Process | None:
        """The live process this record names, or None if it is gone (or the PID was reused)."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 1.0:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except psutil.Error:
            return None


def spawn(cmd: Sequence[str], log_path: Path, env: Mapping[str, str], cwd: Path) -> psutil.Process:
    """Start ``cmd`` in its own session (Ctrl+C in the terminal does not reach it), output to a log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    _SPAWNED[popen.pid] = popen
    return psutil.Process(popen.pid)


# Our own children, so their exit code can still be read after subprocess reaps them.
_SPAWNED: dict[int, subprocess.Popen] = {}


def write_pidfile(path: Path, proc: psutil.Process) -> None:
    """Record ``proc`` so later commands can find (and safely stop) it."""
    path.write_text(json.dumps({"pid": proc.pid, "create_time": proc.create_time()}))


def read_pidfile(path: Path) -> PidRecord | None:
    """The record in ``path``; None when missing or unreadable (a stale file is removed)."""
    try:
        data = json.loads(path.read_text())
        return PidRecord(int(data["pid"]), float(data["create_time"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return None


def live_process(pidfile: Path) -> psutil.Process | None:
    """The running process recorded in ``pidfile``; removes the file if the process is gone."""
    record = read_pidfile(pidfile)
    if record is None:
        return None
    proc = record.process()
    if proc is None:
        pidfile.unlink(missing_ok=True)
    return proc


def tree(proc: psutil.Process) -> list[psutil.Process]:
    """``proc`` and all its descendants that are still alive."""
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def tree_rss(proc: psutil.Process) -> int:
    """Resident memory of a process tree, in bytes."""
    total = 0
    for p in tree(proc):
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def stop_tree(proc: psutil.Process, target: psutil.Process | None = None, timeout: float = 15.0) -> None:
    """SIGTERM ``target`` (default ``proc``) for a clean shutdown, then SIGKILL whatever is left.

    ``target`` is the process that handles SIGTERM gracefully (RabbitMQ's ``beam.smp`` under its
    start script); the whole tree of ``proc`` is waited for and killed if it outlives ``timeout``.
    """
    members = tree(proc)
    with contextlib.suppress(psutil.Error):
        (target or proc).terminate()
    _, alive = psutil.wait_procs(members, timeout=timeout)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=5)


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file ('' when there is none)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def died_while_starting(name: str, proc: psutil.Process | None, log_path: Path) -> BrokerlabError:
    """The error for a broker that exited during start-up, quoting the end of its log."""
    code = None
    if proc is not None:
        with contextlib.suppress(psutil.Error):
            code = proc.wait(timeout=1)
        popen = _SPAWNED.get(proc.pid)
        if code is None and popen is not None:  # already reaped by subprocess: it kept the code
            code = popen.returncode
    return BrokerlabError(
        f"{name} exited while starting (exit code {code}). Last lines of {log_path}:\n"
        + tail(log_path),
        f"Read the full log: less {log_path}  — then run `brokerlab doctor`.",
    )


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass; returns whether it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)

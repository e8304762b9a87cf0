"""Background broker processes: start detached and tagged, record them, find them, stop them.

A broker is identified by facts that never move with the wall clock:

* its **start stamp** — on Linux the start time in clock ticks since boot (``/proc/<pid>/stat``,
  field 22); elsewhere the absolute start time the kernel stored when the process began;
* its **process group** — every broker runs in a session (and group) of its own;
* its **tag** — the environment variable ``BROKERLAB_NODE`` names the node's directory, and every
  process the broker starts (a re-parented ``beam.smp``, ``epmd``) inherits it.

A PID file is written atomically and is never deleted while the process it names is alive; a
process of the course without a PID file (an *orphan*) is still found by its tag, reported and
stopped.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from brokerlab.brokers.files import write_private
from brokerlab.errors import BrokerlabError

TAG = "BROKERLAB_NODE"  # environment variable naming the node directory a process belongs to


def start_stamp(pid: int) -> float | None:
    """When ``pid`` started, in a unit that no clock adjustment changes; None if it is gone."""
    if sys.platform.startswith("linux"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        return float(stat.rsplit(")", 1)[1].split()[19])
    try:  # macOS and the BSDs keep the absolute start time the process began with
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


class UnreadablePidfile(BrokerlabError):
    """A PID file that exists but cannot be parsed: reported and kept for inspection."""


@dataclass(frozen=True)
class PidRecord:
    """A PID with its start stamp and process group, so a reused PID is never mistaken for ours."""

    pid: int
    start: float
    pgid: int

    def process(self) -> psutil.Process | None:
        """The live process this record names, or None when it exited (or the PID was reused)."""
        if start_stamp(self.pid) != self.start:
            return None
        try:
            proc = psutil.Process(self.pid)
            return None if proc.status() == psutil.STATUS_ZOMBIE else proc
        except psutil.NoSuchProcess:
            return None


def spawn(cmd: Sequence[str], log_path: Path, env: Mapping[str, str], cwd: Path) -> psutil.Process:
    """Start ``cmd`` in its own session (Ctrl+C in the terminal does not reach it), output to a log,
    tagged with ``cwd`` (its node directory) so that it and all it starts can always be found."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**env, TAG: str(cwd)},
            cwd=cwd,
            start_new_session=True,
        )
    _SPAWNED[popen.pid] = popen
    return psutil.Process(popen.pid)


# Our own children, so their exit code can still be read after subprocess reaps them.
_SPAWNED: dict[int, subprocess.Popen] = {}


def write_pidfile(path: Path, proc: psutil.Process) -> None:
    """Record ``proc`` atomically (a reader sees the old file or the new one, never half of one)."""
    stamp = start_stamp(proc.pid)
    if stamp is None:
        raise BrokerlabError(f"Process {proc.pid} exited before it could be recorded.")
    write_private(path, json.dumps({"pid": proc.pid, "start": stamp, "pgid": os.getpgid(proc.pid)}))


def read_pidfile(path: Path) -> PidRecord | None:
    """The record in ``path``; None when there is none. Raises :class:`UnreadablePidfile` (and keeps
    the file) when it cannot be parsed."""
    try:
        data = json.loads(path.read_text())
        return PidRecord(int(data["pid"]), float(data["start"]), int(data["pgid"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UnreadablePidfile(f"The PID file {path} cannot be read ({exc}).",
                                "`brokerlab down` stops the broker it belonged to and replaces it.") from None


def _under(path: str | None, home: str) -> bool:
    return path is not None and (path == home or path.startswith(home + os.sep))


def owned(home: Path) -> list[psutil.Process]:
    """Every live process of the course under ``home``: tagged with it (or a directory below it),
    or — for a process started before tags existed — detached from any terminal with its working
    directory there. Never this process or one of its ancestors."""
    root = str(home)
    mine = {os.getpid(), *(p.pid for p in _ancestors())}
    found = []
    for proc in psutil.process_iter(["environ", "cwd", "terminal", "status"]):
        info = proc.info
        if proc.pid in mine or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        tag = (info["environ"] or {}).get(TAG)
        if _under(tag, root) or (tag is None and info["terminal"] is None and _under(info["cwd"], root)):
            found.append(proc)
    return found


def _ancestors() -> list[psutil.Process]:
    try:
        return psutil.Process().parents()
    except psutil.Error:
        return []


def tree(proc: psutil.Process) -> list[psutil.Process]:
    """``proc`` and all its descendants that are still alive."""
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def total_rss(procs: Iterable[psutil.Process]) -> int:
    """Resident memory of some processes, in bytes."""
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def stop_all(procs: Sequence[psutil.Process], graceful: Sequence[psutil.Process] = (),
             timeout: float = 15.0) -> list[psutil.Process]:
    """SIGTERM ``graceful`` (the processes that shut a broker down cleanly), wait up to ``timeout``
    for all of ``procs`` to exit, then SIGKILL the process
    group of every survivor and each survivor itself. Returns what is still alive (normally none).

    Signalling the group catches a child that was re-parented away from the tree (a ``beam.smp``
    whose start script died); a group is only signalled while one of ``procs`` still leads it or
    belongs to it, so a recycled group id is never hit.
    """
    alive = list(procs)
    for p in alive:  # a frozen process cannot shut down (SIGKILL works either way)
        with contextlib.suppress(psutil.Error):
            p.resume()
    if graceful:
        for p in graceful:
            with contextlib.suppress(psutil.Error):
                p.terminate()
        _, alive = psutil.wait_procs(alive, timeout=timeout)
    groups = set()
    for p in alive:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(p.pid))
    for group in groups - {os.getpgrp()}:
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    _, alive = psutil.wait_procs(alive, timeout=10)
    return [p for p in alive if _status(p) not in ("", psutil.STATUS_ZOMBIE)]


def _status(proc: psutil.Process) -> str:
    try:
        return proc.status()
    except psutil.Error:
        return ""


def name(proc: psutil.Process) -> str:
    """The process's name ('' once it is gone)."""
    try:
        return proc.name()
    except psutil.Error:
        return ""


def broker_vms(procs: Iterable[psutil.Process]) -> list[psutil.Process]:
    """The JVMs and Erlang VMs among ``procs``: the processes that shut a broker down on SIGTERM."""
    return [p for p in procs if name(p).startswith(("beam", "java"))]


def is_stopped(proc: psutil.Process) -> bool:
    """True when ``proc`` is frozen by SIGSTOP."""
    return _status(proc) == psutil.STATUS_STOPPED


def die_with_parent() -> None:
    """For ``preexec_fn``: the kernel kills this child when the process that started it dies
    (Linux; elsewhere a no-op), so a tool run by a notebook never outlives the kernel."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


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

"""Separate processes for demonstrations that kill consumers: start, kill, pause, count effects.

A worker runs a function defined in the notebook in its own OS process (forked, so the function
needs no import path). Its output goes to a log file; what it *did* goes to a :class:`Ledger`,
an append-only file that survives the worker being killed — the "side effect" we count.
"""

from __future__ import annotations

import atexit
import functools
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import psutil

from brokerlab import settings
from brokerlab.errors import BrokerlabError


def crash() -> NoReturn:
    """Die right here, like a power cut: SIGKILL to ourselves, no cleanup, no commit, no ack."""
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)
    raise SystemExit(137)  # not reached


class Worker:
    """A handle on one worker process."""

    def __init__(self, process: multiprocessing.process.BaseProcess, name: str, log: Path) -> None:
        self.process = process
        self.name = name
        self.log = log

    def __repr__(self) -> str:
        state = "alive" if self.is_alive() else f"exited {self.exitcode}"
        return f"<Worker {self.name} pid {self.process.pid} {state}>"

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode

    @property
    def killed(self) -> bool:
        """True when the worker died from SIGKILL (ours or its own ``crash()``)."""
        return self.process.exitcode == -signal.SIGKILL

    def is_alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no final commit."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(10)

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def join(self, timeout: float) -> int | None:
        """Wait at most ``timeout`` seconds; raise with the worker's log if it is still running."""
        self.process.join(timeout)
        if self.process.is_alive():
            self.kill()
            raise BrokerlabError(
                f"Worker {self.name} did not finish within {timeout:.0f} s and was killed. "
                f"Its output:\n{self.output()[-2000:]}",
                "Check the brokers with `brokerlab status`, then run the cell again.")
        return self.process.exitcode

    def output(self) -> str:
        """Everything the worker printed."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


def _run(target: Callable[..., Any], log: str, args: tuple, kwargs: dict) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    target(*args, **kwargs)


@functools.cache
def _scratch() -> Path:
    """One directory per kernel for worker logs and ledgers, in the data dir (nothing is left outside
    the checkout and HOME), removed when the kernel exits — or, when it was killed (nbval kills its
    kernels, so exit handlers never run), by the next kernel that finds its process gone."""
    root = settings.data_dir() / "run" / "workers"
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.iterdir():
        owner = stale.name.split("-")[0]
        if owner.isdigit() and not psutil.pid_exists(int(owner)):
            shutil.rmtree(stale, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
    main_pid = os.getpid()
    # Forked workers inherit atexit handlers; only the process that made the directory removes it.
    atexit.register(lambda: os.getpid() == main_pid and shutil.rmtree(path, ignore_errors=True))
    return path


def start(target: Callable[..., Any], *args: Any, name: str | None = None, **kwargs: Any) -> Worker:
    """Run ``target(*args, **kwargs)`` in a new process and return its handle at once."""
    name = name or getattr(target, "__name__", "worker")
    log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log", dir=_scratch())[1])
    ctx = multiprocessing.get_context("fork")
    process = ctx.Process(target=_run, args=(target, str(log), args, kwargs), name=name, daemon=True)
    process.start()
    return Worker(process, name, log)


class Ledger:
    """An append-only record of processed message ids, shared by processes, crash-safe per line."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Path(tempfile.mkstemp(prefix="ledger-", suffix=".txt", dir=_scratch())[1])

    def record(self, item: str) -> None:
        """Append one id and force it to disk (what a real side effect would be)."""
        with open(self.path, "a") as handle:
            handle.write(f"{item}\n")
            handle.flush()
            os.fsync(handle.fileno())

    def record_many(self, items: list[str]) -> None:
        """Append a batch of ids with one write and one fsync (for workers doing thousands a second)."""
        if not items:
            return
        with open(self.path, "a") as handle:
            handle.write("".join(f"{item}\n" for item in items))
            handle.flush()
            os.fsync(handle.fileno())

    def items(self) -> list[str]:
        try:
            return self.path.read_text().split()
        except OSError:
            return []

    def counts(self) -> Counter[str]:
        return Counter(self.items())

    def clear(self) -> None:
        self.path.write_text("")


def crash_then_restart(target: Callable[..., Any], *args: Any, crash_at: int,
                       between: Callable[[], Any] | None = None) -> Any:
    """Run ``target(*args, crash_at=crash_at)`` in a worker that kills itself there, then run
    ``target(*args)`` again to the end; print both runs' output and the restart's duration.

    ``between`` runs after the kill and before the restart (e.g. wait until the broker has noticed
    the dead consumer); its result is returned. Raises if the first run was not killed or the
    second did not finish cleanly: the demonstration would mean nothing."""
    first = start(target, *args, crash_at=crash_at)
    first.join(45)
    print("first run :", first.output().strip() or "(no output)")
    if not first.killed:
        raise BrokerlabError(f"The first run was supposed to be killed; exit code {first.exitcode}.",
                             "Read its output above: it probably failed before the crash point.")
    seen = between() if between else None
    started = time.monotonic()
    second = start(target, *args)  # same function, same group / queue, no crash
    exit_code = second.join(60)
    print("second run:", second.output().strip() or "(no output)")
    print(f"the restarted consumer finished in {time.monotonic() - started:.1f} s")
    for worker in (first, second):
        worker.log.unlink(missing_ok=True)
    if exit_code != 0:
        raise BrokerlabError(f"The restarted consumer failed (exit code {exit_code}).",
                             "Read its output above.")
    return seen

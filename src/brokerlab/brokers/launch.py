"""The Binder launch: start the brokers in the background with one retry, and keep a status file.

``binder/start`` runs ``brokerlab launch`` behind the notebook server. It writes
``<data dir>/run/launch.json`` (state ``starting``, ``up`` or ``failed``, the attempt, the log)
so notebook 00 and ``brokerlab doctor`` can say what happened, and prints one line to the
container's stderr when it is done.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from brokerlab import settings
from brokerlab.brokers import files
from brokerlab.errors import BrokerlabError

ATTEMPTS = 2  # the first try and one retry


@dataclass(frozen=True)
class LaunchStatus:
    """What the background launch did last."""

    state: str  # "starting", "up" or "failed"
    attempt: int
    attempts: int
    log: str
    error: str = ""
    seconds: float | None = None
    pid: int | None = None  # the launching process, to tell "still starting" from "interrupted"


def status_path() -> Path:
    return settings.data_dir() / "run" / "launch.json"


def default_log() -> Path:
    return settings.data_dir() / "run" / "launch.log"


def read_status(path: Path | None = None) -> LaunchStatus | None:
    """The launch's last status, or None when no launch ran here (or its file is unreadable)."""
    path = path or status_path()
    try:
        return LaunchStatus(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _write(status: LaunchStatus, path: Path) -> None:
    files.private_dir(path.parent)
    files.write_private(path, json.dumps(asdict(status), indent=2), mode=0o644)


def launch(up: Callable[[], object], log: Path, attempts: int = ATTEMPTS,
           path: Path | None = None) -> LaunchStatus:
    """Call ``up`` until it succeeds, at most ``attempts`` times, recording each step in ``path``."""
    path = path or status_path()
    t0 = time.monotonic()
    error = ""
    for attempt in range(1, attempts + 1):
        _write(LaunchStatus("starting", attempt, attempts, str(log), pid=os.getpid()), path)
        print(f"[launch] attempt {attempt} of {attempts}: brokerlab up", flush=True)
        try:
            up()
        except BrokerlabError as exc:
            error = exc.problem
            print(f"[launch] attempt {attempt} failed: {exc.problem}\n  → {exc.fix}", flush=True)
            continue
        status = LaunchStatus("up", attempt, attempts, str(log), seconds=round(time.monotonic() - t0, 1))
        _write(status, path)
        return status
    first_line = error.splitlines()[0] if error else ""
    status = LaunchStatus("failed", attempts, attempts, str(log), error=first_line,
                          seconds=round(time.monotonic() - t0, 1))
    _write(status, path)
    return status


def run(up: Callable[[], object], log: Path, attempts: int = ATTEMPTS) -> int:
    """``brokerlab launch``: everything goes to ``log``; one summary line stays on stderr."""
    files.private_dir(log.parent)
    stderr = os.fdopen(os.dup(sys.stderr.fileno()), "w")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, sys.stdout.fileno())
    os.dup2(fd, sys.stderr.fileno())
    os.close(fd)
    status = launch(up, log, attempts)
    if status.state == "up":
        summary = (f"brokerlab: Kafka and RabbitMQ are up ({status.seconds} s, attempt {status.attempt} "
                   f"of {attempts}).")
    else:
        summary = (f"brokerlab: the brokers did NOT start ({attempts} attempts): {status.error}\n"
                   f"  Read {log}, then run in a terminal: brokerlab doctor && brokerlab up")
    print(summary, flush=True)
    print(summary, file=stderr, flush=True)
    return 0 if status.state == "up" else 1

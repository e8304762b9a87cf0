"""A broker node as a background process: start, stop, kill, pause, resume, restart."""

from __future__ import annotations

import contextlib
import os
import signal
from abc import ABC, abstractmethod
from pathlib import Path

import psutil

from brokerlab import processes
from brokerlab.errors import BrokerlabError
from brokerlab.ports import is_open


class BrokerNode(ABC):
    """One broker process living under its own directory (data, log, PID file)."""

    kind: str  # "kafka" or "rabbitmq"

    def __init__(self, name: str, home: Path, port: int) -> None:
        self.name = name
        self.home = home
        self.port = port  # the client port (Kafka or AMQP)

    def __repr__(self) -> str:
        state = "alive" if self.is_alive() else "down"
        return f"<{type(self).__name__} {self.name} :{self.port} {state}>"

    @property
    def pidfile(self) -> Path:
        return self.home / "pid.json"

    @property
    def log(self) -> Path:
        return self.home / f"{self.kind}.log"

    @abstractmethod
    def ports(self) -> list[tuple[str, int]]:
        """Every (label, port) this node listens on."""

    @abstractmethod
    def prepare(self) -> None:
        """Write config and initialise storage (idempotent)."""

    @abstractmethod
    def command(self) -> list[str]:
        """The command line that runs the broker in the foreground."""

    @abstractmethod
    def environment(self) -> dict[str, str]:
        """The environment the broker runs with."""

    def graceful_target(self, proc: psutil.Process) -> psutil.Process:
        """The process that shuts the broker down cleanly on SIGTERM."""
        return proc

    def process(self) -> psutil.Process | None:
        """The node's live root process, if it runs."""
        return processes.live_process(self.pidfile)

    def spawn(self) -> psutil.Process:
        """Start the broker in the background (returns at once; see ``is_ready``)."""
        if self.process() is not None:
            raise BrokerlabError(f"{self.name} is already running.", "brokerlab status")
        self.prepare()
        proc = processes.spawn(self.command(), self.log, self.environment(), self.home)
        processes.write_pidfile(self.pidfile, proc)
        return proc

    def start(self, timeout: float = 90.0) -> None:
        """Start the node and wait until its client port accepts connections."""
        proc = self.spawn()
        if not processes.wait_until(lambda: self.process() is None or self.is_listening(), timeout):
            raise BrokerlabError(
                f"{self.name} did not open port {self.port} within {timeout:.0f} s. Last log lines:\n"
                + processes.tail(self.log),
                f"Read {self.log}; stop it with `brokerlab cluster down`.",
            )
        if self.process() is None:
            raise processes.died_while_starting(self.name, proc, self.log)

    def restart(self, timeout: float = 90.0) -> None:
        """Stop cleanly (if running) and start again."""
        self.stop()
        self.start(timeout)

    def is_alive(self) -> bool:
        """True when the process exists and is not paused."""
        proc = self.process()
        try:
            return proc is not None and not self._paused()
        except psutil.Error:
            return False

    def _paused(self) -> bool:
        return any(_status(p) == psutil.STATUS_STOPPED for p in self._members())

    def is_listening(self) -> bool:
        """True when the client port accepts connections."""
        return is_open(self.port)

    def _members(self) -> list[psutil.Process]:
        proc = self.process()
        return processes.tree(proc) if proc else []

    def stop(self, timeout: float = 20.0) -> None:
        """Shut down cleanly (SIGTERM), force after ``timeout``; no-op when not running."""
        proc = self.process()
        if proc is None:
            return
        self.resume()
        processes.stop_tree(proc, self.graceful_target(proc), timeout)
        self.pidfile.unlink(missing_ok=True)

    def kill(self) -> None:
        """Crash the node: SIGKILL every process of it, no clean shutdown."""
        for p in self._members():
            with contextlib.suppress(psutil.Error):
                p.kill()
        proc = self.process()
        if proc is not None:
            psutil.wait_procs([proc], timeout=5)
        self.pidfile.unlink(missing_ok=True)

    def pause(self, timeout: float = 5.0) -> None:
        """Freeze the node (SIGSTOP): it keeps its sockets but answers nothing. Returns once the
        kernel reports it stopped (signals are delivered asynchronously)."""
        self._signal_all(signal.SIGSTOP)
        processes.wait_until(self._paused, timeout, 0.05)

    def resume(self) -> None:
        """Unfreeze a paused node (SIGCONT)."""
        self._signal_all(signal.SIGCONT)

    def _signal_all(self, sig: signal.Signals) -> None:
        for p in self._members():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p.pid, sig)

    def rss(self) -> int:
        """Resident memory of the node's processes, in bytes (0 when down)."""
        proc = self.process()
        return processes.tree_rss(proc) if proc else 0

    def pids(self) -> list[int]:
        """PIDs of the node's processes."""
        return [p.pid for p in self._members()]


def _status(proc: psutil.Process) -> str:
    try:
        return proc.status()
    except psutil.Error:
        return ""

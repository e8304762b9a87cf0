"""A broker node as a background process: start, stop, kill, pause, resume, restart."""

from __future__ import annotations

import contextlib
import os
import signal
from abc import ABC, abstractmethod
from pathlib import Path

import psutil

from brokerlab.brokers import processes
from brokerlab.brokers.ports import is_open
from brokerlab.errors import BrokerlabError
from brokerlab.waiting import wait_for


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

    def record(self) -> processes.PidRecord | None:
        """The node's PID record (None when there is none; raises when it is unreadable)."""
        return processes.read_pidfile(self.pidfile)

    def process(self) -> psutil.Process | None:
        """The node's live root process, as its PID file records it."""
        with contextlib.suppress(processes.UnreadablePidfile):
            record = self.record()
            return record.process() if record else None
        return None

    def census(self) -> tuple[list[psutil.Process], list[psutil.Process]]:
        """The node's live processes in one scan: the tree its PID file records, and the orphans —
        anything else carrying its tag (a re-parented child, a broker whose PID file was lost).
        The deployment's epmd, which outlives any one node, belongs to neither."""
        proc = self.process()
        recorded = processes.tree(proc) if proc else []
        known = {p.pid for p in recorded}
        orphans = [p for p in processes.owned(self.home)
                   if p.pid not in known and processes.name(p) != "epmd"]
        return recorded, orphans

    def members(self) -> list[psutil.Process]:
        """Every live process of the node, recorded or orphaned."""
        recorded, orphans = self.census()
        return recorded + orphans

    def orphans(self) -> list[psutil.Process]:
        """Processes of this node that its PID file does not account for (running without a record)."""
        return self.census()[1]

    def stop_orphans(self, timeout: float = 20.0) -> None:
        """Stop what runs of this node without a record (cleanly first: it may be a working broker)."""
        orphans = self.orphans()
        self._stop_members(orphans, processes.broker_vms(orphans), timeout)

    def spawn(self) -> psutil.Process:
        """Start the broker in the background (returns at once; see ``is_ready``). Processes of this
        node running without a record are stopped first, so they cannot hold its ports."""
        if self.process() is not None:
            raise BrokerlabError(f"{self.name} is already running.", "brokerlab status")
        self.stop_orphans()
        self.prepare()
        proc = processes.spawn(self.command(), self.log, self.environment(), self.home)
        processes.write_pidfile(self.pidfile, proc)
        return proc

    def start(self, timeout: float = 90.0) -> None:
        """Start the node and wait until its client port accepts connections."""
        proc = self.spawn()
        if not wait_for(lambda: self.process() is None or self.is_listening(), timeout):
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
        """True when the recorded process runs and nothing of the node is paused."""
        return running(*self.census())

    def _paused(self) -> bool:
        return any(processes.is_stopped(p) for p in self.members())

    def is_listening(self) -> bool:
        """True when the client port accepts connections."""
        return is_open(self.port)

    def stop(self, timeout: float = 20.0) -> None:
        """Shut down cleanly (SIGTERM), force after ``timeout``; no-op when nothing of it runs.
        Orphans of the node are stopped too."""
        recorded, orphans = self.census()
        if not recorded and not orphans:
            self.pidfile.unlink(missing_ok=True)
            return
        graceful = [self.graceful_target(recorded[0])] if recorded else []
        self._stop_members(recorded + orphans, graceful + processes.broker_vms(orphans), timeout)

    def kill(self) -> None:
        """Crash the node: SIGKILL every process of it, no clean shutdown."""
        self._stop_members(self.members(), [], timeout=0)

    def _stop_members(self, members: list[psutil.Process], graceful: list[psutil.Process],
                      timeout: float) -> None:
        if not members:
            return
        left = processes.stop_all(members, graceful, timeout)
        if left:
            raise BrokerlabError(f"{self.name}: process(es) {[p.pid for p in left]} survived SIGKILL.",
                                 "They may belong to another user; check with `ps -fp <pid>`.")
        if self.process() is None:
            self.pidfile.unlink(missing_ok=True)

    def pause(self, timeout: float = 5.0) -> None:
        """Freeze the node (SIGSTOP): it keeps its sockets but answers nothing. Returns once the
        kernel reports it stopped (signals are delivered asynchronously)."""
        self._signal(self.members(), signal.SIGSTOP)
        wait_for(self._paused, timeout, 0.05)

    def resume(self) -> None:
        """Unfreeze a paused node (SIGCONT)."""
        self._signal(self.members(), signal.SIGCONT)

    @staticmethod
    def _signal(members: list[psutil.Process], sig: signal.Signals) -> None:
        for p in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p.pid, sig)

    def rss(self) -> int:
        """Resident memory of the node's processes, in bytes (0 when down)."""
        return processes.total_rss(self.members())

    def pids(self) -> list[int]:
        """PIDs of the node's processes."""
        return [p.pid for p in self.members()]


def running(recorded: list[psutil.Process], orphans: list[psutil.Process]) -> bool:
    """A node (as :meth:`BrokerNode.census` found it) runs when its recorded process does and
    nothing of it is frozen."""
    return bool(recorded) and not any(processes.is_stopped(p) for p in recorded + orphans)

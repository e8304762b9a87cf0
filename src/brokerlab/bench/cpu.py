"""CPU per process during a run, and whether the run was client-bound or broker-bound.

A sampler thread in the *parent* reads ``psutil`` CPU times of every watched process (load
generators, native tools, broker processes) and of the whole machine. The load itself always runs
in other processes, so the sampler never competes with it for the GIL. Between
:meth:`CpuSampler.mark_start` and :meth:`CpuSampler.mark_end` it integrates CPU seconds, giving
each process's average share of ONE core (1.0 = a full core) over the measured window, plus the
peak of its 0.2-s samples.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import asdict, dataclass, field

import psutil

BOUND_THRESHOLD = 0.85  # a process at >= 85 % of one core is treated as saturated
MACHINE_THRESHOLD = 0.90  # the whole machine at >= 90 % busy: everything competes for CPU


@dataclass
class ProcessCpu:
    """One watched process (or group of processes, e.g. a broker's tree)."""

    name: str
    role: str  # "client" or "broker"
    cores: float = 0.0  # average share of one core over the window
    peak_cores: float = 0.0  # highest 0.2-s sample


@dataclass
class CpuReport:
    """CPU use over one measured window and the verdict drawn from it."""

    processes: list[ProcessCpu] = field(default_factory=list)
    machine_busy: float = 0.0  # fraction of ALL cores busy over the window (0..1)
    cpu_count: int = 0
    bound: str = "unknown"
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def classify(report: CpuReport) -> CpuReport:
    """Fill ``bound`` and ``reason``: client-bound, broker-bound, machine-saturated or waiting.

    A single-threaded client near 100 % of one core cannot go faster: client-bound. A broker near
    100 % of a core (and the clients not): broker-bound. Neither, but the machine is nearly fully
    busy: other processes take the CPU (machine-saturated). Otherwise the run waited on something
    that is not CPU — acknowledgements, fsync, the network: waiting.
    """
    clients = [p for p in report.processes if p.role == "client"]
    brokers = [p for p in report.processes if p.role == "broker"]
    top_client = max(clients, key=lambda p: p.cores, default=None)
    top_broker = max(brokers, key=lambda p: p.cores, default=None)
    if top_client and top_client.cores >= BOUND_THRESHOLD:
        report.bound = "client-bound"
        report.reason = f"{top_client.name} used {top_client.cores:.0%} of one core"
    elif top_broker and top_broker.cores >= BOUND_THRESHOLD:
        report.bound = "broker-bound"
        report.reason = f"{top_broker.name} used {top_broker.cores:.0%} of one core"
    elif report.machine_busy >= MACHINE_THRESHOLD:
        report.bound = "machine-saturated"
        report.reason = (f"the machine was {report.machine_busy:.0%} busy over {report.cpu_count} "
                         "cores; other processes compete for CPU")
    else:
        report.bound = "waiting"
        parts = [f"{p.name} {p.cores:.0%}" for p in (top_client, top_broker) if p]
        report.reason = ("no process saturated a core (" + ", ".join(parts) +
                         "): the run waited on acknowledgements, fsync or the network")
    return report


def _cpu_seconds(procs: list[psutil.Process], seen: dict[int, float]) -> float:
    """CPU seconds of ``procs``; a process that has exited keeps its last reading in ``seen``."""
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            seen[proc.pid] = t.user + t.system
        except psutil.Error:
            pass
        total += seen.get(proc.pid, 0.0)
    return total


class CpuSampler:
    """Samples named process groups every ``interval`` seconds in a background thread."""

    def __init__(self, groups: dict[str, tuple[str, list[int]]], interval: float = 0.2) -> None:
        """``groups``: name -> (role, PIDs). A broker's group lists all its processes."""
        self.interval = interval
        self._procs: dict[str, tuple[str, list[psutil.Process]]] = {}
        for name, (role, pids) in groups.items():
            procs = []
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    procs.append(psutil.Process(pid))
            self._procs[name] = (role, procs)
        self._lock = threading.Lock()
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._start: tuple[float, dict[str, float], float] | None = None
        self._end: tuple[float, dict[str, float], float] | None = None
        self._last: tuple[float, dict[str, float]] | None = None
        self._peaks: dict[str, float] = dict.fromkeys(self._procs, 0.0)
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)

    def add(self, name: str, role: str, pid: int) -> None:
        """Watch one more process (e.g. a JVM started after the sampler)."""
        with self._lock:
            try:
                self._procs.setdefault(name, (role, []))[1].append(psutil.Process(pid))
                self._peaks.setdefault(name, 0.0)
            except psutil.Error:
                pass

    def _snapshot(self) -> tuple[float, dict[str, float], float]:
        with self._lock:
            per = {name: _cpu_seconds(procs, self._seen) for name, (_, procs) in self._procs.items()}
        machine = psutil.cpu_times()
        busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        return time.monotonic(), per, busy

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            now, per, _ = self._snapshot()
            if self._last is not None and self._start is not None and self._end is None:
                dt = now - self._last[0]
                for name, secs in per.items():
                    prev = self._last[1].get(name, secs)
                    if dt > 0:
                        self._peaks[name] = max(self._peaks.get(name, 0.0), (secs - prev) / dt)
            self._last = (now, per)

    def start(self) -> CpuSampler:
        self._last = self._snapshot()[:2]
        self._thread.start()
        return self

    def mark_start(self) -> None:
        """The measured window begins now."""
        self._start = self._snapshot()

    def mark_end(self) -> None:
        """The measured window ends now."""
        self._end = self._snapshot()

    def stop(self) -> CpuReport:
        """Stop sampling and return the classified report for the marked window."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)
        if self._start is None:
            self.mark_start()
        if self._end is None:
            self.mark_end()
        assert self._start is not None and self._end is not None
        (t0, per0, busy0), (t1, per1, busy1) = self._start, self._end
        wall = max(t1 - t0, 1e-9)
        cpus = psutil.cpu_count() or 1
        report = CpuReport(cpu_count=cpus, machine_busy=min(1.0, (busy1 - busy0) / (wall * cpus)))
        for name, (role, _) in self._procs.items():
            cores = max(0.0, (per1.get(name, 0.0) - per0.get(name, 0.0)) / wall)
            report.processes.append(ProcessCpu(name, role, round(cores, 3),
                                               round(max(cores, self._peaks.get(name, 0.0)), 3)))
        return classify(report)

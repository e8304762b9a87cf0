"""Load generators in separate OS processes, started together, measured over one shared window.

Every role (a producer, a consumer…) is a module-level function ``fn(params, sync) -> dict`` run
in its own process from a ``forkserver`` (clean single-threaded forks: the notebook kernel's
librdkafka threads are never copied). The protocol:

1. each child connects, declares what it needs, then calls ``sync.ready()``;
2. when every child is ready the parent picks one :class:`Window` (warm-up start, measure start,
   measure end, in ``time.monotonic_ns()``) and sends it to all of them;
3. children warm up, measure, and return a result dict (or the parent gets their traceback).

The parent samples CPU of the children and the brokers during the measured window.
"""

from __future__ import annotations

import multiprocessing
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from brokerlab.bench.cpu import CpuReport, CpuSampler
from brokerlab.errors import BrokerlabError

PRELOAD = ["brokerlab.bench.kafka_load", "brokerlab.bench.rabbit_load", "brokerlab.bench.machine"]
READY_TIMEOUT = 30.0
_context: Any = None


def context() -> Any:
    """The shared forkserver context (started once, modules preloaded)."""
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        _context = ctx
    return _context


@dataclass(frozen=True)
class Window:
    """The run's timeline, in ``time.monotonic_ns()`` (one clock for all processes on Linux)."""

    warmup_start_ns: int
    start_ns: int
    end_ns: int
    drain_deadline_ns: int

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    def measuring(self, t_ns: int) -> bool:
        return self.start_ns <= t_ns < self.end_ns


class Sync:
    """The child's side of the protocol."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def ready(self, timeout: float = 60.0) -> Window:
        """Say we are connected; block until the parent sends the window."""
        self._conn.send(("ready", None))
        if not self._conn.poll(timeout):
            raise TimeoutError("the parent never sent the start signal")
        kind, window = self._conn.recv()
        if kind != "go":
            raise RuntimeError("run cancelled by the parent")
        return window

    def wait_until(self, t_ns: int) -> None:
        """Sleep until ``t_ns`` (monotonic)."""
        delay = (t_ns - time.monotonic_ns()) / 1e9
        if delay > 0:
            time.sleep(delay)


def _child(fn: Callable[[dict, Sync], dict], params: dict, conn: Connection) -> None:
    try:
        result = fn(params, Sync(conn))
        conn.send(("result", result))
    except BaseException as exc:  # everything goes back to the parent as text
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-2000:]}"))
    finally:
        conn.close()


@dataclass
class Role:
    """One process of a run."""

    name: str
    fn: Callable[[dict, Sync], dict]
    params: dict


@dataclass
class GroupResult:
    """What every role returned, the window, and the CPU report."""

    results: dict[str, dict]
    window: Window
    cpu: CpuReport
    errors: dict[str, str] = field(default_factory=dict)


def run_group(roles: list[Role], warmup_s: float, duration_s: float, drain_s: float,
              brokers: dict[str, list[int]] | None = None,
              during: Callable[[Window], None] | None = None) -> GroupResult:
    """Start ``roles`` in their own processes, run them over one window, collect their results.

    ``during(window)``, if given, runs in the parent once the measured window has begun (e.g. to
    freeze a broker for a moment); it must return before the window ends.
    """
    ctx = context()
    conns: dict[str, Connection] = {}
    procs: dict[str, Any] = {}
    try:
        for role in roles:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_child, args=(role.fn, role.params, child),
                               name=f"bench-{role.name}", daemon=True)
            proc.start()
            child.close()
            conns[role.name], procs[role.name] = parent, proc
        errors: dict[str, str] = {}
        deadline = time.monotonic() + READY_TIMEOUT
        for name, conn in conns.items():
            while not conn.poll(0.1):
                if not procs[name].is_alive() or time.monotonic() > deadline:
                    raise BrokerlabError(
                        f"Load generator {name!r} did not get ready within {READY_TIMEOUT:.0f} s.",
                        "Check the brokers: `brokerlab status` (start them: `brokerlab up`).")
            kind, payload = conn.recv()
            if kind == "error":
                raise BrokerlabError(f"Load generator {name!r} failed while connecting:\n{payload}",
                                     "Check the brokers: `brokerlab status`.")
        groups = {name: ("client", [p.pid]) for name, p in procs.items()}
        groups.update({name: ("broker", pids) for name, pids in (brokers or {}).items()})
        sampler = CpuSampler(groups).start()
        now = time.monotonic_ns()
        warm = now + 20_000_000
        start = warm + int(warmup_s * 1e9)
        end = start + int(duration_s * 1e9)
        window = Window(warm, start, end, end + int(drain_s * 1e9))
        for conn in conns.values():
            conn.send(("go", window))
        _sleep_until(start)
        sampler.mark_start()
        if during is not None:
            during(window)
        _sleep_until(end)
        sampler.mark_end()
        results: dict[str, dict] = {}
        limit = time.monotonic() + drain_s + 30
        for name, conn in conns.items():
            if not conn.poll(max(0.1, limit - time.monotonic())):
                errors[name] = "no result before the deadline (killed)"
                continue
            kind, payload = conn.recv()
            if kind == "result":
                results[name] = payload
            else:
                errors[name] = payload
        cpu = sampler.stop()
        if errors:
            detail = "\n".join(f"{k}: {v}" for k, v in errors.items())
            raise BrokerlabError(f"A load generator failed:\n{detail}",
                                 "Check the brokers: `brokerlab status`; then run again.")
        return GroupResult(results, window, cpu, errors)
    finally:
        for proc in procs.values():
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        for conn in conns.values():
            conn.close()


def run_one(fn: Callable[[dict, Sync], dict], params: dict, timeout: float = 120.0) -> dict:
    """Run one role alone (no window wanted, e.g. a prefill or a loopback test); return its dict."""
    ctx = context()
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(fn, params, child), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise BrokerlabError(f"{fn.__name__} did not finish within {timeout:.0f} s.",
                                 "Check the brokers: `brokerlab status`.")
        kind, payload = parent.recv()
        if kind != "result":
            raise BrokerlabError(f"{fn.__name__} failed:\n{payload}", "Check `brokerlab status`.")
        return payload
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
        parent.close()


def _sleep_until(t_ns: int) -> None:
    delay = (t_ns - time.monotonic_ns()) / 1e9
    if delay > 0:
        time.sleep(delay)

"""Exercise checking: feedback lines, a pass/fail verdict, and the learner's local progress.

Each lesson's checker (``brokerlab.exercises.*``) runs the learner's code against the live
broker and reports through :func:`report`. Reference solutions live beside the notebooks in
``solutions/`` and load with :func:`load_solution` (or ``%load`` to read them).
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from brokerlab import settings
from brokerlab.errors import BrokerlabError


@dataclass
class CheckResult:
    """The outcome of one check: passed or not, and why, line by line."""

    exercise: str
    passed: bool
    feedback: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"{'PASSED' if self.passed else 'NOT YET'} — exercise {self.exercise}"
        return "\n".join([head, *(f"  {line}" for line in self.feedback)])


class Feedback:
    """Collects named expectations; every failed one becomes a specific hint."""

    def __init__(self, exercise: str, record: bool = True) -> None:
        self.exercise = exercise
        self.record = record  # False for reference-solution runs: they are not the learner's progress
        self.lines: list[str] = []
        self.failed = 0

    def expect(self, ok: bool, good: str, bad: str) -> bool:
        """Record one expectation: ``good`` when it holds, ``bad`` (the hint) when it does not."""
        self.lines.append(("✔ " + good) if ok else ("✘ " + bad))
        self.failed += not ok
        return ok

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Run the learner's function; NotImplementedError or a crash becomes a hint, not a traceback."""
        try:
            return True, fn(*args, **kwargs)
        except NotImplementedError:
            self.expect(False, "", "Not attempted yet: replace `raise NotImplementedError` with your "
                                   "code and run the cell again.")
        except Exception as exc:  # the learner's code: any failure is feedback
            self.expect(False, "", f"Your function raised {type(exc).__name__}: {exc}")
        return False, None

    def call_bounded(self, fn: Callable[..., Any], *args: Any, timeout: float,
                     hang_hint: str) -> tuple[bool, Any]:
        """:meth:`call` with a deadline: a learner's function that blocks for ever (an endless poll
        loop, a wait without timeout) becomes the hint ``hang_hint`` instead of a hung cell."""
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = fn(*args)
            except BaseException as exc:  # replayed through call() below, which makes it a hint
                box["error"] = exc

        worker = threading.Thread(target=run, name="learner-function", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            self.expect(False, "", f"Your function did not return within {timeout:.0f} s. {hang_hint}")
            return False, None

        def replay() -> Any:
            if "error" in box:
                raise box["error"]
            return box["value"]

        return self.call(replay)

    def result(self) -> CheckResult:
        passed = self.failed == 0 and bool(self.lines)
        result = CheckResult(self.exercise, passed, self.lines)
        if self.record:
            _record_progress(self.exercise, passed)
        return result


# Exercise ids before they were named after their module (``lesson_NN_<slug>``, ``lab_NN_<slug>``).
RENAMED = {
    "01-leftovers": "lesson_01_leftovers", "02_consumer_lag": "lesson_02_consumer_lag",
    "03-routing": "lesson_03_routing", "04-idempotent-consumer": "lesson_04_idempotent_consumer",
    "05-replay-from": "lesson_05_replay_from", "06_produce_all": "lesson_06_produce_all",
    "07_open_loop": "lesson_07_open_loop", "08-workloads": "lesson_08_workloads",
    "lab01-consumers-needed": "lab_01_consumer_lag", "lab02-rewind-group": "lab_02_offset_management",
    "lab03-reliable-producer": "lab_03_acks_and_replication", "lab04-bounded-queue": "lab_04_queue_explosion",
    "lab05-exact-routing": "lab_05_complex_routing",
    "lab06-survives-a-node": "lab_06_quorum_queues_node_failure",
    "lab07-dead-letter-after-n": "lab_07_poison_messages_dlq",
}


def _progress_path() -> Path:
    return settings.progress_dir() / "exercises.json"


def progress() -> dict[str, dict]:
    """Every exercise attempted on this machine: passed or not, and when.

    A file written under the old exercise ids is migrated in place: each old entry is merged into
    its new id (passed if either passed, attempts added, the latest result kept)."""
    try:
        data = json.loads(_progress_path().read_text())
    except (OSError, ValueError):
        return {}
    if any(old in data for old in RENAMED):
        data = _migrate(data)
        _write_progress(data)
    return data


def _migrate(data: dict[str, dict]) -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for exercise, entry in sorted(data.items(), key=lambda kv: kv[1].get("updated_at", 0)):
        new_id = RENAMED.get(exercise, exercise)
        earlier = merged.get(new_id)
        if earlier is None:
            merged[new_id] = dict(entry)
            continue
        merged[new_id] = {**entry, "passed": bool(entry.get("passed") or earlier.get("passed")),
                          "attempts": entry.get("attempts", 0) + earlier.get("attempts", 0)}
    return merged


def _write_progress(data: dict[str, dict]) -> None:
    path = _progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def _record_progress(exercise: str, passed: bool) -> None:
    data = progress()
    previous = data.get(exercise, {})
    data[exercise] = {"passed": passed or previous.get("passed", False),
                      "last_result": passed, "attempts": previous.get("attempts", 0) + 1,
                      "updated_at": time.time()}
    _write_progress(data)


def load_solution(name: str) -> ModuleType:
    """Import ``notebooks/solutions/<name>.py`` (or ``labs/solutions/<name>.py``) by path."""
    root = settings.project_root()
    candidates = [root / d / "solutions" / f"{name}.py" for d in ("notebooks", "labs")] if root else []
    for path in candidates:
        if path.is_file():
            spec = importlib.util.spec_from_file_location(f"solutions_{name}", path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise BrokerlabError(f"No reference solution named {name!r}.",
                         "Solutions live in notebooks/solutions/ and labs/solutions/.")

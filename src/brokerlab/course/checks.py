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
import traceback
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
        """Run the learner's function; NotImplementedError or a crash becomes a hint, not a traceback.

        A function from a reference solution (loaded by :func:`load_solution`) is checked like any
        other, but its result is never recorded as the learner's progress."""
        if is_reference(fn):
            self.record = False
        try:
            return True, fn(*args, **kwargs)
        except NotImplementedError:
            self.expect(False, "", "Not attempted yet: replace `raise NotImplementedError` with your "
                                   "code and run the cell again.")
        except Exception as exc:  # the learner's code: any failure is feedback
            self.expect(False, "", f"Your function raised {type(exc).__name__}: {exc} "
                                   f"({_where(exc)}). Fix that line and run the cell again.")
        return False, None

    def call_bounded(self, fn: Callable[..., Any], *args: Any, timeout: float,
                     hang_hint: str) -> tuple[bool, Any]:
        """:meth:`call` with a deadline: a learner's function that blocks for ever (an endless poll
        loop, a wait without timeout) becomes the hint ``hang_hint`` instead of a hung cell."""
        if is_reference(fn):
            self.record = False
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
    its new id (attempts added, the latest result kept)."""
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
        merged[new_id] = {**entry, "attempts": entry.get("attempts", 0) + earlier.get("attempts", 0),
                          "history": [*earlier.get("history", []), *entry.get("history", [])]}
    for entry in merged.values():
        entry["passed"] = bool(entry.get("last_result", entry.get("passed")))
    return merged


def _write_progress(data: dict[str, dict]) -> None:
    path = _progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def _record_progress(exercise: str, passed: bool) -> None:
    """Keep the latest result (a later failure un-passes an exercise) and every attempt's outcome."""
    data = progress()
    previous = data.get(exercise, {})
    now = time.time()
    history = [*previous.get("history", []), {"at": now, "passed": passed}]
    data[exercise] = {"passed": passed, "last_result": passed,
                      "attempts": previous.get("attempts", 0) + 1,
                      "history": history, "updated_at": now}
    _write_progress(data)


def _where(exc: BaseException) -> str:
    """The last line the traceback went through: where the learner's code failed."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "no traceback"
    last = frames[-1]
    return f"in {last.name}, line {last.lineno}: {(last.line or '').strip()}"


def known_exercises() -> list[str]:
    """Every exercise and checkpoint the course has, in course order (lessons, then labs)."""
    import pkgutil

    from brokerlab import exercises

    ids: list[str] = []
    for info in sorted(pkgutil.iter_modules(exercises.__path__), key=lambda i: i.name):
        if info.name.startswith(("lesson_", "lab_")):
            module = importlib.import_module(f"brokerlab.exercises.{info.name}")
            ids += [cp.id for cp in getattr(module, "CHECKPOINTS", ())]
            ids.append(module.EXERCISE)
    return ids


def status_report() -> list[dict[str, Any]]:
    """One record per exercise for the learner or an instructor's dashboard: ``status`` is
    "passed", "attempted, not passed" or "not attempted", with attempts and the last attempt's time."""
    done = progress()
    known = known_exercises()
    rows = []
    for exercise in [*known, *sorted(set(done) - set(known))]:
        entry = done.get(exercise)
        status = ("not attempted" if entry is None
                  else "passed" if entry.get("passed") else "attempted, not passed")
        rows.append({"exercise": exercise, "status": status,
                     "attempts": entry.get("attempts", 0) if entry else 0,
                     "last_attempt_at": entry.get("updated_at") if entry else None})
    return rows


def is_reference(fn: object) -> bool:
    """True for a function defined in a reference solution file (see :func:`load_solution`)."""
    return str(getattr(fn, "__module__", "")).startswith(SOLUTION_MODULE_PREFIX)


SOLUTION_MODULE_PREFIX = "brokerlab_solution_"


def load_solution(name: str) -> ModuleType:
    """Import ``notebooks/solutions/<name>.py`` (or ``labs/solutions/<name>.py``) by path."""
    root = settings.project_root()
    candidates = [root / d / "solutions" / f"{name}.py" for d in ("notebooks", "labs")] if root else []
    for path in candidates:
        if path.is_file():
            spec = importlib.util.spec_from_file_location(SOLUTION_MODULE_PREFIX + name, path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise BrokerlabError(f"No reference solution named {name!r}.",
                         "Solutions live in notebooks/solutions/ and labs/solutions/.")

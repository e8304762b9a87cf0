"""The claims registry, exercise progress and worker processes (no broker needed)."""

import importlib
import json
import os
import pkgutil
import re
import time
from pathlib import Path

import pytest

from brokerlab import exercises
from brokerlab.course import checks, claims
from brokerlab.errors import BrokerlabError
from brokerlab.observe import workers


@pytest.fixture(autouse=True)
def private_data(monkeypatch, tmp_path):
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path))


def test_every_claim_points_at_a_notebook_and_ids_are_unique():
    ids = [c.id for c in claims.CLAIMS]
    assert len(ids) == len(set(ids))
    assert all(c.tested_in.endswith(".ipynb") and c.article for c in claims.CLAIMS)


def test_the_notebook_each_claim_names_records_that_claim():
    root = Path(__file__).resolve().parents[2]
    for c in claims.CLAIMS:
        cells = json.loads((root / c.tested_in).read_text())["cells"]
        code = "".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        recorded = re.search(rf"claims\.(record|judge)\(\s*\"{re.escape(c.id)}\"", code)
        assert recorded, f"{c.tested_in} never records {c.id}"


def test_record_and_read_back_latest_wins():
    claims.record("ordering", "half-true", "first", {"n": 1})
    claims.record("ordering", "refuted", "second", {"n": 2})
    claims.record("protocols", "confirmed", "ok", {"mqtt": True})
    got = claims.results()
    assert got["ordering"].verdict == "refuted" and got["ordering"].evidence == {"n": 2}
    assert set(got) == {"ordering", "protocols"}


def test_unknown_claim_or_verdict_is_rejected():
    with pytest.raises(BrokerlabError, match="No claim"):
        claims.record("nope", "confirmed", "", {})
    with pytest.raises(BrokerlabError, match="Verdict"):
        claims.record("ordering", "maybe", "", {})  # type: ignore[arg-type]


def test_feedback_passes_only_when_every_expectation_holds():
    fb = checks.Feedback("ex1")
    fb.expect(True, "good", "bad")
    fb.expect(False, "good2", "hint two")
    result = fb.result()
    assert not result.passed and "✘ hint two" in str(result)
    fb = checks.Feedback("ex1")
    fb.expect(True, "fine", "x")
    assert fb.result().passed
    assert checks.progress()["ex1"] == {**checks.progress()["ex1"], "passed": True, "attempts": 2}
    assert [h["passed"] for h in checks.progress()["ex1"]["history"]] == [False, True]


def test_progress_keeps_the_latest_result_not_the_best_one():
    for outcome in (True, False):
        fb = checks.Feedback("ex-latest")
        fb.expect(outcome, "fine", "hint")
        fb.result()
    entry = checks.progress()["ex-latest"]
    assert entry["passed"] is False and entry["attempts"] == 2
    assert [h["passed"] for h in entry["history"]] == [True, False]


def test_a_reference_solution_never_counts_as_the_learners_progress(tmp_path, monkeypatch):
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    (tmp_path / "notebooks" / "solutions" / "lesson_99_demo.py").write_text(
        "def answer():\n    return 42\n")
    monkeypatch.setattr(checks.settings, "project_root", lambda: tmp_path)
    reference = checks.load_solution("lesson_99_demo")
    fb = checks.Feedback("lesson_99_demo")  # a checker that forgot record=False
    ok, value = fb.call(reference.answer)
    fb.expect(ok and value == 42, "right", "wrong")
    assert fb.result().passed
    assert "lesson_99_demo" not in checks.progress()

    def learners_answer():
        return 42

    fb = checks.Feedback("lesson_99_demo")
    ok, value = fb.call(learners_answer)
    fb.expect(ok and value == 42, "right", "wrong")
    fb.result()
    assert checks.progress()["lesson_99_demo"]["passed"] is True


def test_reference_runs_do_not_count_as_the_learners_progress():
    fb = checks.Feedback("ex-ref", record=False)
    fb.expect(True, "fine", "x")
    assert fb.result().passed
    assert "ex-ref" not in checks.progress()


def test_an_empty_check_cannot_pass():
    assert not checks.Feedback("empty").result().passed


def test_call_turns_not_implemented_and_crashes_into_hints():
    def todo():
        raise NotImplementedError

    def broken():
        return 1 / 0

    fb = checks.Feedback("ex2")
    assert fb.call(todo) == (False, None)
    assert fb.call(broken) == (False, None)
    assert fb.call(lambda x: x + 1, 1) == (True, 2)
    text = str(fb.result())
    assert "Not attempted yet" in text and "ZeroDivisionError" in text


def test_call_bounded_turns_a_hang_into_a_hint_and_keeps_results_and_errors():
    fb = checks.Feedback("ex3", record=False)
    assert fb.call_bounded(time.sleep, 5, timeout=0.2, hang_hint="Bound the loop.") == (False, None)
    assert fb.call_bounded(lambda a, b: a * b, 6, 7, timeout=5, hang_hint="") == (True, 42)
    assert fb.call_bounded(lambda: 1 / 0, timeout=5, hang_hint="") == (False, None)
    text = str(fb.result())
    assert "did not return within 0 s. Bound the loop." in text and "ZeroDivisionError" in text


def test_worker_crash_is_a_real_sigkill_and_the_ledger_survives(tmp_path):
    ledger = workers.Ledger(tmp_path / "ledger.txt")

    def job(n):
        for i in range(n):
            ledger.record(f"m{i}")
            if i == 2:
                workers.crash()

    worker = workers.start(job, 10)
    worker.join(20)
    assert worker.killed
    assert ledger.items() == ["m0", "m1", "m2"]


def test_worker_join_times_out_with_a_clear_error():
    worker = workers.start(time.sleep, 30)
    with pytest.raises(BrokerlabError, match="did not finish"):
        worker.join(0.5)
    assert not worker.is_alive()


def test_worker_output_is_captured():
    worker = workers.start(print, "hello", os.getpid())
    assert worker.join(20) == 0
    assert "hello" in worker.output()


def test_load_solution_errors_clearly():
    with pytest.raises(BrokerlabError, match="No reference solution"):
        checks.load_solution("does-not-exist")


def test_failure_labs_refuse_a_shared_cluster(monkeypatch):
    from brokerlab.brokers.cluster import Cluster

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "shared.example:9092")
    with pytest.raises(BrokerlabError, match="shared cluster"):
        Cluster()


def test_progress_under_the_old_exercise_ids_is_migrated_once_and_merged():
    path = checks._progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "02_consumer_lag": {"passed": True, "last_result": True, "attempts": 2, "updated_at": 10.0},
        "lab01-consumers-needed": {"passed": False, "last_result": False, "attempts": 1,
                                   "updated_at": 20.0},
        "lab_01_consumer_lag": {"passed": False, "last_result": False, "attempts": 3,
                                "updated_at": 30.0},
    }))
    migrated = checks.progress()
    assert set(migrated) == {"lesson_02_consumer_lag", "lab_01_consumer_lag"}
    assert migrated["lesson_02_consumer_lag"]["passed"] is True
    assert migrated["lab_01_consumer_lag"] == {"passed": False, "last_result": False, "attempts": 4,
                                               "history": [], "updated_at": 30.0}
    assert json.loads(path.read_text()) == migrated  # written back: the old ids are gone for good


def test_every_exercise_id_is_its_module_name():
    for info in pkgutil.iter_modules(exercises.__path__):
        if info.name.startswith(("lesson_", "lab_")):
            module = importlib.import_module(f"brokerlab.exercises.{info.name}")
            assert info.name == module.EXERCISE
    assert set(checks.RENAMED.values()) <= {i.name for i in pkgutil.iter_modules(exercises.__path__)}

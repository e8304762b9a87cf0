"""After the suite has executed the notebooks top to bottom — reference cells included — the
learner's progress shows nothing passed: only the learner's own attempts count (issue 11)."""

from pathlib import Path

import pytest

from brokerlab.course import checks

pytestmark = pytest.mark.integration


def test_a_full_run_of_the_notebooks_passes_no_exercise(request, monkeypatch, suite_progress):
    notebooks = [i for i in request.session.items if Path(str(i.fspath)).suffix == ".ipynb"]
    if not notebooks:
        pytest.skip("no notebook was executed in this session (run it with the notebooks)")
    monkeypatch.setenv("BROKERLAB_PROGRESS_DIR", str(suite_progress))
    rows = checks.status_report()
    passed = [r["exercise"] for r in rows if r["status"] == "passed"]
    attempted = [r["exercise"] for r in rows if r["status"] == "attempted, not passed"]
    assert not passed, f"reference or test runs recorded as the learner's progress: {passed}"
    assert attempted, "no checker ran on the notebooks' unsolved exercise cells"

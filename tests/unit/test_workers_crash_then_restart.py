"""workers.crash_then_restart: the first run dies where asked, ``between`` runs in the gap, and a
run that was not killed, or a restart that fails, is an error (no broker needed)."""

from __future__ import annotations

import pytest

from brokerlab.errors import BrokerlabError
from brokerlab.observe import workers


def count_to_five(ledger: workers.Ledger, crash_at=None) -> None:
    for n in range(1, 6):
        if n == crash_at:
            workers.crash()
        ledger.record(str(n))


def never_crashes(ledger: workers.Ledger, crash_at=None) -> None:
    ledger.record("done")


def fails_on_restart(ledger: workers.Ledger, crash_at=None) -> None:
    if crash_at is None:
        raise SystemExit(3)
    workers.crash()


def test_the_first_run_dies_where_asked_and_between_runs_in_the_gap(tmp_path):
    ledger = workers.Ledger(tmp_path / "ledger")
    seen = workers.crash_then_restart(count_to_five, ledger, crash_at=3, between=lambda: list(ledger.items()))
    assert seen == ["1", "2"]
    assert ledger.items() == ["1", "2", "1", "2", "3", "4", "5"]


def test_a_first_run_that_was_not_killed_is_an_error(tmp_path):
    with pytest.raises(BrokerlabError, match="supposed to be killed"):
        workers.crash_then_restart(never_crashes, workers.Ledger(tmp_path / "l"), crash_at=1)


def test_a_restart_that_fails_is_an_error(tmp_path):
    with pytest.raises(BrokerlabError, match="exit code 3"):
        workers.crash_then_restart(fails_on_restart, workers.Ledger(tmp_path / "l"), crash_at=1)

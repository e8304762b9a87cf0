"""Hooks for everything pytest runs in this checkout, the notebooks under notebooks/ and labs/
included: tests/conftest.py applies to the tests under tests/ only."""

from __future__ import annotations

import signal

pytest_plugins = ["tests.cell_output", "tests.memory_peaks"]


def pytest_configure() -> None:
    """An interrupted run still runs its teardown (which stops the brokers the tests started):
    SIGINT raises KeyboardInterrupt even when the run was started with it ignored (a background
    job, as `make test` runs its lanes), and SIGTERM (a CI job cancelled) does the same."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

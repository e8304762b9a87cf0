"""A failed notebook cell's report also shows what the cell printed before it failed (nbval
reports only the traceback), so a failure in CI can be diagnosed from the log alone."""

from __future__ import annotations

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Add the cell's printed output to a failed cell's report."""
    outcome = yield
    report = outcome.get_result()
    outputs = getattr(item, "test_outputs", None)
    if report.failed and call.when == "call" and outputs:
        printed = "".join(out.get("text", "") for out in outputs if out.get("output_type") == "stream")
        if printed:
            report.sections.append(("what the cell printed", printed[-6000:]))

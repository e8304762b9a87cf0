"""Hooks for everything pytest runs in this checkout, the notebooks under notebooks/ and labs/
included: tests/conftest.py applies to the tests under tests/ only."""

pytest_plugins = ["tests.cell_output", "tests.memory_peaks"]

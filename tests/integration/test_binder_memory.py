"""Every Binder-ready notebook this session executed stayed within Binder's memory: its broker pair
and its kernel with every process it started peaked under 1.8 GiB, less what JupyterLab itself
takes. Runs after the notebooks (see LAST in conftest.py), from the samples of tests/memory_peaks.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.memory_peaks import MEMORY, binder_ready

pytestmark = pytest.mark.integration

BUDGET_MIB = 1.8 * 1024  # brokers + JupyterLab + kernel, under Binder's 2 GB with room to spare
JUPYTERLAB_MIB = 150  # the JupyterLab server: 81 MiB measured by the Binder launch test, with headroom


def test_binder_ready_notebooks_fit_in_binder(request: pytest.FixtureRequest) -> None:
    root = Path(request.config.rootpath)
    executed = {f"{p.parent.name}/{p.name}" for p in (Path(str(i.fspath)) for i in request.session.items)
                if p.suffix == ".ipynb"}
    ready = sorted(nb for nb in executed if binder_ready(root / nb))
    if not ready:
        pytest.skip("no Binder-ready notebook was executed in this session")
    peaks = request.config.stash[MEMORY].peaks
    assert not (missing := [nb for nb in ready if nb not in peaks]), f"never sampled: {missing}"
    limit = BUDGET_MIB - JUPYTERLAB_MIB
    over = {nb: round(peaks[nb]["binder"] / 2**20) for nb in ready if peaks[nb]["binder"] / 2**20 > limit}
    assert not over, f"peak MiB PSS (broker pair + kernel and its processes) above {limit:.0f}: {over}"
    assert all(peaks[nb]["pair"] > 0 and peaks[nb]["kernel"] > 0 for nb in ready), peaks

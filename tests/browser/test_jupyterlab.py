"""A real browser runs notebook 00 in JupyterLab: every cell runs, widgets and Mermaid render.

Headless Chromium from the OS (Debian's `chromium`) driven by Playwright; a screenshot is kept in
test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "00_welcome_and_setup_check.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def jupyter_lab(tmp_path, brokers):
    """JupyterLab serving a copy of notebook 00 (the repo's copy never gets outputs saved into it)."""
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp_path / NOTEBOOK)
    # Render every cell (JupyterLab 4 keeps only visible cells in the page by default), start the
    # notebook's kernel without asking, no news pop-up.
    for plugin, value in (("notebook-extension/tracker", '{"windowingMode": "none"}'),
                          ("docmanager-extension/plugin", '{"autoStartDefaultKernel": true}'),
                          ("apputils-extension/notification", '{"fetchNews": "false"}')):
        path = tmp_path / "lab-settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value)
    port, token = free_port(), secrets.token_hex(16)
    log = open(tmp_path / "jupyter.log", "w")  # noqa: SIM115 — the server writes to it until teardown
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
           f"--LabApp.user_settings_dir={tmp_path / 'lab-settings'}", "--ServerApp.allow_root=True"]
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              env={**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config")})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/status", params={"token": token}, timeout=2).ok:
                break
        except requests.RequestException:
            pass
        assert server.poll() is None, (tmp_path / "jupyter.log").read_text()[-3000:]
        time.sleep(0.5)
    else:
        pytest.fail("JupyterLab did not answer within 90 s")
    yield base, token
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
    log.close()


def wait_for_idle_kernel(base: str, token: str, timeout: float = 90) -> None:
    """Until the notebook's kernel is started, connected and idle (Run All sent earlier is lost)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sessions = requests.get(f"{base}/api/sessions", params={"token": token}, timeout=5).json()
        kernels = [s["kernel"] for s in sessions if s.get("kernel")]
        if kernels and all(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels):
            time.sleep(2)  # the page's kernel connection finishes its handshake
            return
        time.sleep(0.5)
    pytest.fail(f"the notebook's kernel was not idle within {timeout:.0f} s")


def test_notebook_00_runs_in_a_real_browser(jupyter_lab):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is installed by `scripts/setup.sh --test` (make test)"
    base, token = jupyter_lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}", timeout=60_000)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
            wait_for_idle_kernel(base, token)
            page.click(".lm-MenuBar-item:has-text('Run')")
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            cells = json.loads((ROOT / "notebooks" / NOTEBOOK).read_text())["cells"]
            code = [c for c in cells if c["cell_type"] == "code"]
            assert page.locator(".jp-CodeCell").count() == len(code)
            # Cells for the tests have their source hidden (metadata): no prompt shows for them.
            shown = sum(not c["metadata"].get("jupyter", {}).get("source_hidden") for c in code)

            def finished() -> bool:
                prompts = [p.strip() for p in
                           page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts() if p.strip()]
                return len(prompts) == shown and all(
                    p.startswith("[") and p[1:-2].isdigit() for p in prompts)

            deadline = time.monotonic() + 180
            while not finished():
                assert time.monotonic() < deadline, "not every cell finished within 180 s"
                page.wait_for_timeout(500)
            page.wait_for_timeout(1500)  # let Mermaid and widgets finish rendering
            errors = page.locator("[data-mime-type='application/vnd.jupyter.error']")
            assert errors.count() == 0, errors.first.inner_text()[:2000]
            assert page.locator(".jupyter-widgets button:has-text('Run the round trips again')").count() == 1
            # JupyterLab draws each diagram as an SVG image; a parse error gets the warning class.
            drawn = page.locator(".jp-RenderedMermaid img[src^='data:image/svg+xml']")
            assert drawn.count() >= 2, "the course map and the live diagram should both render"
            assert page.locator(".jp-RenderedMermaid.jp-mod-warning").count() == 0
        finally:
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-notebook-00.png"), full_page=True)
            browser.close()

"""A read-only HTML version of the course, built from notebooks executed against the live brokers.

    brokerlab book                      # every lesson and lab → build/book/index.html
    brokerlab book notebooks/02_*.ipynb # just these

Each notebook runs top to bottom in its own folder (as in JupyterLab), is saved with its outputs
as HTML (JupyterLab's look; Mermaid diagrams render in the reader's browser), and the index lists
every page with its run time and whether it ran cleanly. A notebook that fails still gets a page,
up to the failing cell, so the error can be read.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

from brokerlab import settings
from brokerlab.errors import BrokerlabError

CELL_TIMEOUT_S = 600


@dataclass(frozen=True)
class Page:
    """One executed notebook: where its HTML is, how long it ran, and the error if it failed."""

    notebook: str
    html: str
    seconds: float
    error: str | None


def course_notebooks(root: Path) -> list[Path]:
    """The lessons, then the labs, in learning order."""
    return sorted((root / "notebooks").glob("[0-9]*.ipynb")) + sorted((root / "labs").glob("[0-9]*.ipynb"))


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0][2:].strip()
    return fallback


def build_page(notebook: Path, root: Path, out: Path) -> Page:
    """Execute ``notebook`` and write its HTML under ``out`` (same relative path as in the course)."""
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook.parent)}})
    start, error = time.monotonic(), None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()  # without the terminal colours
        error = text.splitlines()[-1] if text else type(exc).__name__
    seconds = time.monotonic() - start
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(
        nb, resources={"metadata": {"name": _title(nb, notebook.stem)}})
    name = notebook.relative_to(root) if notebook.is_relative_to(root) else Path(notebook.name)
    relative = name.with_suffix(".html")
    (out / relative).parent.mkdir(parents=True, exist_ok=True)
    (out / relative).write_text(body, encoding="utf-8")
    return Page(name.as_posix(), relative.as_posix(), seconds, error)


def index_html(pages: Sequence[Page]) -> str:
    """The book's front page: every notebook, its run time and status."""
    rows = "".join(
        f"<tr><td><a href='{html.escape(p.html)}'>{html.escape(p.notebook)}</a></td>"
        f"<td style='text-align:right'>{p.seconds:.0f} s</td>"
        f"<td>{'ran cleanly' if p.error is None else 'FAILED: ' + html.escape(p.error)}</td></tr>"
        for p in pages)
    built = time.strftime("%Y-%m-%d %H:%M %Z")
    return ("<!doctype html><meta charset='utf-8'><title>Systems of Power — the course, executed</title>"
            "<body style='font-family:sans-serif;max-width:60em;margin:2em auto'>"
            "<h1>Systems of Power — Kafka and RabbitMQ, side by side</h1>"
            f"<p>Every page below was executed against real brokers on {built}. Its numbers were "
            "measured in that run; yours will differ. Open the notebooks in JupyterLab to run them.</p>"
            "<table><tr><th>notebook</th><th>run time</th><th>status</th></tr>"
            f"{rows}</table></body>")


def build(notebooks: Sequence[Path], out: Path,
          progress: Callable[[str], None] = print) -> list[Page]:
    """Execute every notebook into ``out``, write ``out/index.html``; return the pages."""
    root = settings.project_root()
    if root is None:
        raise BrokerlabError("The course folder was not found (no notebooks/ next to brokerlab).",
                             "Run brokerlab book from the course's checkout.")
    paths = [Path(n).resolve() for n in notebooks] or course_notebooks(root)
    missing = [str(p) for p in paths if not p.is_file() or p.suffix != ".ipynb"]
    if missing:
        raise BrokerlabError(f"Not a notebook: {', '.join(missing)}",
                             "Name .ipynb files (notebooks/02_kafka_walkthrough.ipynb), or none for all.")
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    for number, path in enumerate(paths, start=1):
        progress(f"[{number}/{len(paths)}] {path.name} …")
        page = build_page(path, root, out)
        status = "ok" if page.error is None else f"FAILED: {page.error}"
        progress(f"        {page.seconds:.0f} s, {status}")
        pages.append(page)
    (out / "index.html").write_text(index_html(pages), encoding="utf-8")
    return pages

"""The scorecard of notebook 08: every claim of the article next to the learner's own verdict.

One row per claim of :data:`brokerlab.course.claims.CLAIMS`, in the registry's order, with the verdict and
evidence that lessons 01–07 and labs 01–07 recorded into the learner's progress dir (``claims.results()``).
A claim nobody measured yet says exactly what to run. Rendering only: nothing here measures.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from pathlib import PurePosixPath

from brokerlab.course import claims
from brokerlab.course.claims import Claim, Result

NOT_MEASURED = "not measured"
#: Every state a row can be in, in display order.
STATES: tuple[str, ...] = (*claims.VERDICTS, NOT_MEASURED)
#: The colours ``claims.show`` uses for each verdict, and grey for a claim not measured yet.
COLOURS: dict[str, str] = {**claims.VERDICT_COLOURS, NOT_MEASURED: "#9e9e9e"}


def run_command(notebook: str) -> str:
    """The shell command (from the course folder) that runs ``notebook`` top to bottom."""
    return f".venv/bin/pytest --nbval-lax --nbval-current-env {notebook}"


@dataclass(frozen=True)
class Row:
    """One claim and what the learner's own run said about it (``result`` is None if nothing yet)."""

    claim: Claim
    result: Result | None

    @property
    def verdict(self) -> str:
        return self.result.verdict if self.result else NOT_MEASURED

    @property
    def to_run(self) -> str | None:
        """What to do to measure this claim, or None when it is measured."""
        if self.result is not None:
            return None
        return (f"open {self.claim.tested_in} and Run All, or run "
                f"`{run_command(self.claim.tested_in)}`")


def rows(results: Mapping[str, Result] | None = None) -> list[Row]:
    """One row per claim of the registry, in its order, with the recorded result if any."""
    results = claims.results() if results is None else results
    return [Row(c, results.get(c.id)) for c in claims.CLAIMS]


def counts(table: list[Row]) -> dict[str, int]:
    """How many rows are in each state (every state present, zeros included)."""
    out = dict.fromkeys(STATES, 0)
    for row in table:
        out[row.verdict] += 1
    return out


def still_to_run(table: list[Row]) -> dict[str, list[str]]:
    """Notebooks that would measure the claims still missing: notebook → claim ids."""
    todo: dict[str, list[str]] = {}
    for row in table:
        if row.result is None:
            todo.setdefault(row.claim.tested_in, []).append(row.claim.id)
    return todo


def _evidence_html(result: Result, limit: int) -> str:
    items = list(result.evidence.items())
    shown = "".join(f"<li>{escape(str(k))}: <b>{escape(str(v))}</b></li>" for k, v in items[:limit])
    more = f"<li>… and {len(items) - limit} more</li>" if len(items) > limit else ""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(result.recorded_at))
    return (f"{escape(result.summary)}<ul style='margin:2px 0'>{shown}{more}</ul>"
            f"<small>recorded {when}</small>")


def to_html(table: list[Row], evidence_items: int = 4) -> str:
    """The scorecard as an HTML table. Each row carries ``data-claim`` and ``data-verdict``, so what
    was rendered can be read back (:func:`rendered_verdicts`)."""
    head = "".join(f"<th style='text-align:left'>{h}</th>"
                   for h in ("claim", "the article says", "your verdict", "evidence, or what to run"))
    body = []
    for row in table:
        colour = COLOURS[row.verdict]
        nb = escape(row.claim.tested_in)
        detail = (_evidence_html(row.result, evidence_items) if row.result is not None
                  else f"<i>Not measured yet.</i> Open <code>{nb}</code> and Run All, or run "
                       f"<code>{escape(run_command(row.claim.tested_in))}</code> in the course folder.")
        notebook = PurePosixPath(row.claim.tested_in).stem
        body.append(
            f"<tr data-claim='{escape(row.claim.id)}' data-verdict='{escape(row.verdict)}' "
            "style='vertical-align:top;border-bottom:1px solid #e0e0e0'>"
            f"<td style='border-left:6px solid {colour};padding-left:6px;text-align:left'>"
            f"<b>{escape(row.claim.topic)}</b><br><code>{escape(row.claim.id)}</code><br>"
            f"<small>{escape(notebook)}</small></td>"
            f"<td style='text-align:left;width:28%'><i>“{escape(row.claim.article)}”</i></td>"
            f"<td style='color:{colour};font-weight:bold;white-space:nowrap'>"
            f"{escape(row.verdict.upper())}</td>"
            f"<td style='text-align:left;width:48%'>{detail}</td></tr>")
    return (f"<table class='brokerlab-scorecard' style='border-collapse:collapse;width:100%'>"
            f"<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def to_text(table: list[Row]) -> str:
    """The scorecard as plain text, one line per claim (for consoles and logs)."""
    width = max(len(r.claim.id) for r in table) if table else 0
    return "\n".join(f"{r.claim.id:<{width}}  {r.verdict.upper():<13} "
                     f"{r.result.summary if r.result else r.to_run}" for r in table)


class _RowReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and "data-claim" in values:
            self.found.append((values["data-claim"] or "", values.get("data-verdict") or ""))


def rendered_verdicts(html: str) -> list[tuple[str, str]]:
    """Read a rendered scorecard back: (claim id, verdict shown) for every row, in order."""
    reader = _RowReader()
    reader.feed(html)
    return reader.found


def plot_counts(table: list[Row], ax=None):
    """A horizontal bar per state: how many claims got each verdict, in the verdict colours."""
    import matplotlib.pyplot as plt

    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 2.6))
    numbers = counts(table)
    states = list(reversed(STATES))
    bars = ax.barh(states, [numbers[s] for s in states], color=[COLOURS[s] for s in states])
    ax.bar_label(bars, padding=3)
    ax.set_xlim(0, max(len(table), 1) + 0.5)
    ax.set_xlabel("claims")
    ax.set_title(f"The article's {len(table)} claims, scored by your own runs")
    return ax

"""Print one line per notebook from a pytest JUnit report: passed, or the first failing cell and
the last line of its error (usually the assertion). Usage: junit_by_notebook.py <junit.xml>"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def summary(path: str) -> list[str]:
    """``notebook: PASSED (n cells, s)`` or ``notebook: FAILED at <cell>: <last error line>``."""
    cases: dict[str, list[ET.Element]] = {}
    for case in ET.parse(path).iter("testcase"):
        cases.setdefault(case.get("file") or case.get("classname", "?"), []).append(case)
    lines = []
    for notebook, cells in cases.items():
        seconds = sum(float(c.get("time", 0)) for c in cells)
        failed = [(c, f) for c in cells for f in c if f.tag in ("failure", "error")]
        if not failed:
            lines.append(f"{notebook}: PASSED ({len(cells)} cells, {seconds:.0f} s)")
            continue
        case, failure = failed[0]
        text = [ln.strip() for ln in (failure.text or failure.get("message", "")).splitlines() if ln.strip()]
        hits = [ln for ln in text if "Error" in ln or "assert" in ln] or text or [""]
        last = hits[-1]
        lines.append(f"{notebook}: FAILED at {case.get('name')} ({seconds:.0f} s): {last[:300]}")
    return lines


if __name__ == "__main__":
    print("\n".join(summary(sys.argv[1])))

"""Print one line per notebook from a pytest JUnit report: passed, or how many cells failed, the
first failing cell and the last line of its error (usually the assertion).
Usage: junit_by_notebook.py <junit.xml>"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET

ANSI = re.compile(r"(\x1b|#x1B)\[[0-9;]*m")  # colours, raw or as the XML report escapes them
ERROR_LINE = re.compile(r"\s*\w*(Error|Exception|NotShown)\b")  # "AssertionError: …", "NotShown: …"


def summary(path: str) -> list[str]:
    """``notebook: PASSED (n cells, s)`` or ``notebook: FAILED k of n cells, first <cell>: <error>``."""
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
        text = ANSI.sub("", failure.text or failure.get("message", ""))
        errors = [ln.strip() for ln in text.splitlines() if ERROR_LINE.match(ln)]
        lines.append(f"{notebook}: FAILED {len(failed)} of {len(cells)} cells ({seconds:.0f} s), first "
                     f"{case.get('name')}: {(errors or ['(no error line)'])[-1][:300]}")
    return lines


if __name__ == "__main__":
    print("\n".join(summary(sys.argv[1])))

#!/usr/bin/env python3
"""How much a learner reads on each notebook's main path: words of prose and lines of code.

Cells tagged ``deep-dive`` (optional depth) or ``test-only`` (hidden, for the suite) are not on
the main path. Usage: ``scripts/count_main_path.py [notebook ...]`` (default: every lesson and lab);
``--json`` prints the counts as JSON. The targets (issue 12): about 2,000 words and 350 lines.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import nbformat

OFF_PATH = {"deep-dive", "test-only"}
WORDS, LINES = 2000, 350


def counts(path: Path) -> dict[str, int]:
    """Main-path prose words and code lines of one notebook, and the same for its deep dives."""
    nb = nbformat.read(path, as_version=4)
    out = {"words": 0, "code_lines": 0, "deep_dive_words": 0, "deep_dive_code_lines": 0}
    for cell in nb.cells:
        off = bool(OFF_PATH & set(cell.metadata.get("tags", [])))
        if cell.cell_type == "markdown":
            text = re.sub(r"<[^>]+>|`{3}.*?`{3}", " ", cell.source, flags=re.S)
            out["deep_dive_words" if off else "words"] += len(re.findall(r"[\w'’-]+", text))
        elif cell.cell_type == "code":
            lines = [ln for ln in cell.source.splitlines() if ln.strip()]
            out["deep_dive_code_lines" if off else "code_lines"] += len(lines)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    paths = args.notebooks or sorted((root / "notebooks").glob("*.ipynb")) + sorted(
        (root / "labs").glob("*.ipynb"))
    table = {str(p.relative_to(root) if p.is_absolute() else p): counts(p) for p in paths}
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    print(f"{'notebook':48s} {'words':>6s} {'code':>5s}   {'deep-dive words':>15s} {'code':>5s}")
    for name, c in table.items():
        flag = " over" if c["words"] > WORDS or c["code_lines"] > LINES else ""
        print(f"{name:48s} {c['words']:6d} {c['code_lines']:5d}   {c['deep_dive_words']:15d} "
              f"{c['deep_dive_code_lines']:5d}{flag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

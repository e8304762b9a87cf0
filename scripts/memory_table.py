#!/usr/bin/env python3
"""Print the README's memory table from the peaks `make test` sampled (test-artifacts/memory-*.json,
written by tests/memory_peaks.py): one row per notebook, MiB at its peak."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.memory_peaks import binder_ready  # noqa: E402


def main() -> int:
    peaks: dict[str, dict[str, int]] = {}
    for path in sorted((ROOT / "test-artifacts").glob("memory*.json")):
        peaks.update(json.loads(path.read_text()))
    if not peaks:
        print("no test-artifacts/memory*.json: run make test first", file=sys.stderr)
        return 1
    print("| notebook | broker pair | 3+3 cluster | kernel + its processes | pair + kernel | fits Binder |")
    print("|---|---|---|---|---|---|")
    for notebook in sorted(peaks):
        p = peaks[notebook]
        fits = binder_ready(ROOT / notebook)
        ready = "yes" if fits else "no (needs the cluster)"
        # make test runs lanes side by side: a single-pair notebook's samples also saw the cluster
        # that another lane was using, which that notebook does not need.
        cluster = "—" if fits or not p["cluster"] else f"{p['cluster']} MiB"
        cells = [notebook, f"{p['pair']} MiB", cluster, f"{p['kernel']} MiB", f"{p['binder']} MiB", ready]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

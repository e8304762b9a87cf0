"""The result record: every setting, the environment, each run, and median with range.

One JSON document per experiment (schema ``brokerlab.bench/1``)::

    {"schema", "experiment", "title", "mode": {...durations...}, "started_at", "finished_at",
     "environment": {cpu_count, versions...}, "machine": {"fsync": {...}, "loopback": {...}},
     "brokers": {"kafka": version, "rabbitmq": version, "source": ...},
     "configs": [{"label", "system", "client", "workload": {...}, "runs": [...],
                  "summary": {"msgs_per_s": {"median", "min", "max", "n"}, ...},
                  "cpu": {...}, "bound": "client-bound" | ...}],
     "notes": [...]}

Only measured values go in; nothing is filled in from elsewhere.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA = "brokerlab.bench/1"
REQUIRED = ("schema", "experiment", "title", "mode", "started_at", "finished_at", "environment",
            "machine", "brokers", "configs")
CONFIG_REQUIRED = ("label", "system", "client", "workload", "runs", "summary", "bound")


def spread(values: list[float]) -> dict:
    """Median and range of a list of per-run values (None entries ignored)."""
    vals = [float(v) for v in values if v is not None and v == v]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


@dataclass
class ConfigResult:
    """One configuration measured ``runs`` times."""

    label: str
    system: str
    client: str  # "python" or the native tool's name
    workload: dict
    runs: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    cpu: dict = field(default_factory=dict)  # the median run's CPU report
    bound: str = "unknown"
    latency: dict = field(default_factory=dict)  # merged histograms (encoded), by kind

    def median(self, key: str = "msgs_per_s") -> float:
        value = self.summary.get(key, {}).get("median")
        return float("nan") if value is None else float(value)

    def as_dict(self) -> dict:
        return asdict(self)


def summarize_runs(config: ConfigResult, keys: tuple[str, ...]) -> ConfigResult:
    """Fill ``summary`` (median/min/max of each key over runs) and the median run's CPU verdict."""
    config.summary = {k: spread([r.get(k) for r in config.runs]) for k in keys}
    main = keys[0]
    ranked = sorted((r for r in config.runs if r.get(main) is not None), key=lambda r: r[main])
    if ranked:
        middle = ranked[len(ranked) // 2]
        config.cpu = middle.get("cpu", {})
        config.bound = config.cpu.get("bound", "unknown")
    return config


@dataclass
class Experiment:
    """A named experiment: its environment, its machine limits and its configurations."""

    experiment: str
    title: str
    mode: dict
    environment: dict
    machine: dict
    brokers: dict
    configs: list[ConfigResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def finish(self) -> Experiment:
        self.finished_at = time.time()
        return self

    def find(self, label: str) -> ConfigResult:
        for c in self.configs:
            if c.label == label:
                return c
        raise KeyError(f"no configuration {label!r}; have: {[c.label for c in self.configs]}")

    def to_dict(self) -> dict:
        doc = {"schema": SCHEMA, **asdict(self)}
        doc["configs"] = [c.as_dict() for c in self.configs]
        return doc

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str))
        return path


def validate(doc: dict) -> list[str]:
    """Problems with a result document (an empty list means it follows the schema)."""
    problems = [f"missing key {k!r}" for k in REQUIRED if k not in doc]
    if doc.get("schema") != SCHEMA:
        problems.append(f"schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    if not isinstance(doc.get("configs"), list):
        return [*problems, "configs must be a list"]
    for i, cfg in enumerate(doc["configs"]):
        problems += [f"configs[{i}] missing {k!r}" for k in CONFIG_REQUIRED if k not in cfg]
        for key, stats in cfg.get("summary", {}).items():
            if set(stats) != {"median", "min", "max", "n"}:
                problems.append(f"configs[{i}].summary[{key!r}] needs median/min/max/n")
            elif stats["n"] and not stats["min"] <= stats["median"] <= stats["max"]:
                problems.append(f"configs[{i}].summary[{key!r}] has median outside its range")
    if doc.get("finished_at") is not None and doc.get("started_at") is not None \
            and doc["finished_at"] < doc["started_at"]:
        problems.append("finished_at is before started_at")
    return problems


def load(path: Path) -> dict:
    """Read a saved result and check it against the schema."""
    doc = json.loads(Path(path).read_text())
    problems = validate(doc)
    if problems:
        raise ValueError(f"{path} is not a valid benchmark result: " + "; ".join(problems))
    return doc

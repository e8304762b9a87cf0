"""The questions the decision helper asks, and the learner's answers checked into a valid Workload."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ORDERING: tuple[str, ...] = ("none", "per-key", "global")
ROUTING: tuple[str, ...] = ("simple", "content-based", "many-patterns")
TEAMS: tuple[str, ...] = ("none", "kafka", "rabbitmq", "both")
PROTOCOLS: tuple[str, ...] = ("mqtt", "stomp")

#: The questions the helper asks, by answer key (the notebook's form uses these as labels).
QUESTIONS: dict[str, str] = {
    "throughput": "Messages per second at peak",
    "ordering": "Ordering needed",
    "routing": "Routing needed",
    "replay": "Re-read history (replay)?",
    "retention_days": "Keep after consumption, in days (0 = delete on ack)",
    "latency_p99_ms": "p99 latency target in ms (empty = none)",
    "per_message": "Per-message acks, retries, priorities or dead-lettering?",
    "survive_node_loss": "Messages must survive losing a broker node?",
    "team": "The team already runs",
    "protocols": "Devices publish over",
}


class WorkloadError(ValueError):
    """One or more answers are not valid; ``problems`` says which, and what to type instead."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Workload:
    """What the system must do. Build it with :func:`parse_workload` from raw answers."""

    throughput: float  # messages per second at peak
    ordering: str = "none"
    routing: str = "simple"
    replay: bool = False
    retention_days: float = 0.0  # after consumption; 0 = delete once processed
    latency_p99_ms: float | None = None  # None = no target
    per_message: bool = False  # per-message acks, retries, priorities, dead-lettering
    survive_node_loss: bool = True
    team: str = "none"
    protocols: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = _field_problems(self)
        if problems:
            raise WorkloadError(problems)

    @property
    def keeps_history(self) -> bool:
        """Messages must outlive their consumption: replay, or retention after consumption."""
        return self.replay or self.retention_days > 0


def _field_problems(w: Workload) -> list[str]:
    problems = []

    def positive(name: str, value: object, optional: bool = False, zero_ok: bool = False) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value) \
                or math.isinf(value) or value < 0 or (value == 0 and not zero_ok):
            problems.append(f"{QUESTIONS[name]}: {value!r} must be a number "
                            f"{'of 0 or more' if zero_ok else 'above 0'}.")

    positive("throughput", w.throughput)
    positive("retention_days", w.retention_days, zero_ok=True)
    positive("latency_p99_ms", w.latency_p99_ms, optional=True)
    for name, options in (("ordering", ORDERING), ("routing", ROUTING), ("team", TEAMS)):
        if getattr(w, name) not in options:
            problems.append(f"{QUESTIONS[name]}: {getattr(w, name)!r} is not one of {', '.join(options)}.")
    for name in ("replay", "per_message", "survive_node_loss"):
        if not isinstance(getattr(w, name), bool):
            problems.append(f"{QUESTIONS[name]}: {getattr(w, name)!r} must be True or False.")
    if not isinstance(w.protocols, tuple) or any(p not in PROTOCOLS for p in w.protocols):
        problems.append(f"{QUESTIONS['protocols']}: {w.protocols!r} must be a tuple of "
                        f"{', '.join(PROTOCOLS)} (empty for none).")
    return problems


_MULTIPLIERS = {"k": 1e3, "m": 1e6, "g": 1e9, "b": 1e9}


def _number(name: str, raw: object, units: tuple[str, ...], problems: list[str], *,
            optional: bool = False, zero_ok: bool = False, example: str = "",
            multipliers: bool = False) -> float | None:
    """A number from a widget or a dict: 5000, '5000', '5,000', '20 ms' (and '5k', '2.5M' with
    ``multipliers``)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if optional:
            return None
        problems.append(f"{QUESTIONS[name]}: an answer is needed, e.g. {example}.")
        return None
    value: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip().lower().replace(",", "").replace("_", "")
        for unit in units:  # a unit the learner may type after the number
            if text.endswith(unit):
                text = text[: -len(unit)].strip()
                break
        multiplier = 1.0
        if multipliers and text[-1:] in _MULTIPLIERS:
            multiplier, text = _MULTIPLIERS[text[-1]], text[:-1].strip()
        try:
            value = float(text) * multiplier
        except ValueError:
            value = None
    if value is None:
        problems.append(f"{QUESTIONS[name]}: {raw!r} is not a number. Type e.g. {example}.")
        return None
    if math.isnan(value) or math.isinf(value) or value < 0 or (value == 0 and not zero_ok):
        bound = "0 or more" if zero_ok else "more than 0"
        problems.append(f"{QUESTIONS[name]}: must be {bound} (got {raw!r}). Type e.g. {example}.")
        return None
    return value


def _choice(name: str, raw: object, options: tuple[str, ...], problems: list[str], default: str) -> str:
    if raw is None:
        return default
    text = str(raw).strip().lower().replace(" ", "-").replace("_", "-")
    if text not in options:
        problems.append(f"{QUESTIONS[name]}: {raw!r} is not one of {', '.join(options)}.")
        return default
    return text


def _flag(name: str, raw: object, problems: list[str], default: bool) -> bool:
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("yes", "y", "true", "1"):
        return True
    if text in ("no", "n", "false", "0"):
        return False
    problems.append(f"{QUESTIONS[name]}: {raw!r} is not yes or no.")
    return default


def parse_workload(answers: Mapping[str, object]) -> Workload:
    """Turn raw answers (widget values, or a dict typed by hand) into a valid :class:`Workload`.

    Raises :class:`WorkloadError` with every problem at once, each saying what to type instead.
    Only ``throughput`` is required; the other answers default to the simplest workload.
    """
    problems: list[str] = []
    unknown = sorted(set(answers) - set(QUESTIONS))
    if unknown:
        problems.append(f"Unknown answer(s) {', '.join(map(repr, unknown))}: the questions are "
                        f"{', '.join(QUESTIONS)}.")
    throughput = _number("throughput", answers.get("throughput"), ("msg/s", "/s"), problems,
                         example="5000, 5k or 2.5M", multipliers=True)
    retention = _number("retention_days", answers.get("retention_days", 0), ("days", "day", "d"),
                        problems, zero_ok=True, example="0 (delete once processed) or 7")
    latency = _number("latency_p99_ms", answers.get("latency_p99_ms"), ("ms",), problems,
                      optional=True, example="50 (or leave it empty)")
    ordering = _choice("ordering", answers.get("ordering"), ORDERING, problems, "none")
    routing = _choice("routing", answers.get("routing"), ROUTING, problems, "simple")
    team = _choice("team", answers.get("team"), TEAMS, problems, "none")
    replay = _flag("replay", answers.get("replay"), problems, False)
    per_message = _flag("per_message", answers.get("per_message"), problems, False)
    survive = _flag("survive_node_loss", answers.get("survive_node_loss"), problems, True)
    raw_protocols = answers.get("protocols") or ()
    if isinstance(raw_protocols, str):
        raw_protocols = [p for p in re.split(r"[,\s]+", raw_protocols) if p]
    protocols = []
    for p in raw_protocols if isinstance(raw_protocols, Iterable) else [raw_protocols]:
        name = str(p).strip().lower()
        if name in ("", "none"):
            continue
        if name not in PROTOCOLS:
            problems.append(f"{QUESTIONS['protocols']}: {p!r} is not one of {', '.join(PROTOCOLS)} "
                            "(leave it empty when no device speaks them).")
        elif name not in protocols:
            protocols.append(name)
    if problems:
        raise WorkloadError(problems)
    assert throughput is not None and retention is not None
    return Workload(throughput=throughput, ordering=ordering, routing=routing, replay=replay,
                    retention_days=retention, latency_p99_ms=latency, per_message=per_message,
                    survive_node_loss=survive, team=team, protocols=tuple(protocols))

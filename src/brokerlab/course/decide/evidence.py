"""Evidence for each step: the learner's recorded measurements, else the course's facts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from brokerlab.course import claims
from brokerlab.course.claims import Result

# Each lesson notebook, by its number ('05', '05b'), from the claims registry (one source of truth).
NOTEBOOKS: dict[str, str] = {PurePosixPath(c.tested_in).name.split("_")[0]: c.tested_in
                             for c in claims.CLAIMS if c.tested_in.startswith("notebooks/")}


def notebook(number: str) -> str:
    """The path of lesson ``number`` ('01' … '07') as the claims registry names it."""
    return NOTEBOOKS[number]


def _format_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def cite(results: Mapping[str, Result], claim_id: str, needles: tuple[str, ...], fallback: str,
         limit: int = 3) -> tuple[str, bool]:
    """Evidence for one step: the learner's recorded numbers for ``claim_id`` whose names contain
    one of ``needles`` (else their summary), or ``fallback`` (what the course shows) when that
    claim was never measured here. Returns (text, measured)."""
    result = results.get(claim_id)
    if result is None:
        return f"not measured on this machine yet; {fallback}", False
    items = [(k, v) for k, v in result.evidence.items() if any(n in k.lower() for n in needles)][:limit]
    where = PurePosixPath(claims.claim(claim_id).tested_in).stem
    body = "; ".join(f"{k} = {_format_value(v)}" for k, v in items) if items else result.summary
    return f"your run of {where} (verdict: {result.verdict}): {body}", True


@dataclass(frozen=True)
class Ceilings:
    """The highest rates (msg/s) each broker reached; measured here, or the published ones."""

    kafka: float
    rabbitmq: float
    measured: bool
    source: str


#: The article's source (Confluent 2020, OpenMessaging Benchmark, 3 large brokers, 1 KiB messages),
#: as notebook 06 quotes it: Kafka 605 MiB/s ≈ 619K msg/s, RabbitMQ mirrored queues ≈ 38K msg/s.
PUBLISHED_CEILINGS = Ceilings(605 * 1024, 38_000, False,
                              "published, not measured here: Confluent 2020 benchmark on 3 large brokers "
                              "(Kafka 605 MiB/s of 1 KiB messages, RabbitMQ mirrored queues ~38K msg/s)")


def throughput_ceilings(results: Mapping[str, Result]) -> Ceilings:
    """The best msg/s per broker from the learner's ``scale`` verdict (notebook 06), else the
    published figures the article relies on (marked as not measured)."""
    result = results.get("scale")
    found: dict[str, float] = {}
    if result is not None:
        for key, value in result.evidence.items():
            k = key.lower()
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if "msg/s" not in k or not numeric or value <= 0:
                continue
            for system in ("kafka", "rabbitmq"):
                if system in k and system not in found:
                    found[system] = float(value)
    if len(found) == 2:
        return Ceilings(found["kafka"], found["rabbitmq"], True,
                        f"your run of {PurePosixPath(notebook('06')).stem} (verdict: {result.verdict}): "
                        "best rates on this machine, one node each")
    return PUBLISHED_CEILINGS


@dataclass(frozen=True)
class P99:
    """p99 latencies (ms) measured for both brokers at one rate."""

    kafka_ms: float
    rabbitmq_ms: float
    at_rate: float | None  # msg/s, when the evidence names it


def latency_p99(results: Mapping[str, Result]) -> P99 | None:
    """The learner's p99 for Kafka and RabbitMQ at the same load (notebook 07), if recorded."""
    result = results.get("latency")
    if result is None:
        return None
    for key, value in result.evidence.items():
        if "p99" not in key.lower() or not isinstance(value, list | tuple) or len(value) != 2:
            continue
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            continue
        rate = re.search(r"at ([\d,.]+)\s*msg/s", key)
        return P99(float(value[0]), float(value[1]),
                   float(rate.group(1).replace(",", "")) if rate else None)
    return None

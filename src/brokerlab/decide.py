"""The decision helper of notebook 08: a workload in, a recommendation with its reasons out.

Pure functions: no widgets, no broker, no files. The notebook draws the form (ipywidgets) and
passes the learner's answers to :func:`parse_workload`, which either returns a valid
:class:`Workload` or raises :class:`WorkloadError` listing every problem in plain words. Then
:func:`recommend` walks the same questions, in the same order, as the course's corrected
flowchart (:data:`FIXED_CHART`):

1. devices that speak MQTT or STOMP → RabbitMQ;
2. replay or retention after consumption → Kafka, or RabbitMQ **streams**;
3. content-based routing, many patterns, or per-message acks / retries / priorities → RabbitMQ;
4. order per key → Kafka;
5. a rate above what one broker managed (with headroom) → the one that managed it;
6. a p99 target only one broker met → that one;
7. the system the team already runs;
8. otherwise: either.

The first question that decides, decides; a later one that points the other way becomes a
*trade-off*. Every step is a :class:`Reason` that cites the notebook that shows it and, where
the learner has run that notebook, their own recorded measurement (``claims.results()``);
otherwise what the course shows, marked as not measured.

The module also holds the article's own decision flowchart (:data:`ARTICLE_CHART`, as written)
and :func:`flowchart_problems`, which finds what is broken in a simple Mermaid flowchart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import PurePosixPath

from brokerlab import claims
from brokerlab.claims import Result

ORDERING: tuple[str, ...] = ("none", "per-key", "global")
ROUTING: tuple[str, ...] = ("simple", "content-based", "many-patterns")
TEAMS: tuple[str, ...] = ("none", "kafka", "rabbitmq", "both")
PROTOCOLS: tuple[str, ...] = ("mqtt", "stomp")
#: Plan for at most this fraction of a measured ceiling: peaks, retries and consumers need room.
HEADROOM = 0.5

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

# Each lesson notebook, by its two-digit number, from the claims registry (one source of truth).
NOTEBOOKS: dict[str, str] = {PurePosixPath(c.tested_in).name[:2]: c.tested_in for c in claims.CLAIMS
                             if c.tested_in.startswith("notebooks/")}


def notebook(number: str) -> str:
    """The path of lesson ``number`` ('01' … '07') as the claims registry names it."""
    return NOTEBOOKS[number]


# --- the workload and its validation -----------------------------------------------------------

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


# --- evidence: the learner's recorded measurements, else the course's facts ---------------------

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


# --- the recommendation ------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    """One question of the walk: what was asked, what it points to, and why."""

    step: str  # protocols, history, routing, ordering, throughput, latency, team
    question: str
    answer: str
    favours: str  # "Kafka", "RabbitMQ" or "either"
    decisive: bool  # True when this answer alone would settle the choice
    explanation: str
    evidence: str
    measured: bool  # the evidence is the learner's own recorded measurement
    notebooks: tuple[str, ...]  # where the course shows it (never empty)


@dataclass(frozen=True)
class Recommendation:
    """The helper's answer: a choice, the RabbitMQ flavour where it applies, and every reason."""

    choice: str  # "Kafka", "RabbitMQ" or "either"
    flavour: str | None  # RabbitMQ: "streams", "quorum queues" or "classic queues"
    decided_by: str | None  # the step that decided, None for "either"
    reasons: tuple[Reason, ...]
    trade_offs: tuple[str, ...]  # later decisive steps that pointed the other way
    to_measure: tuple[str, ...]  # notebooks whose measurements would sharpen this answer

    @property
    def headline(self) -> str:
        if self.choice == "either":
            return f"Either Kafka or RabbitMQ ({self.flavour}): nothing in this workload decides"
        name = f"RabbitMQ ({self.flavour})" if self.choice == "RabbitMQ" else "Kafka"
        return f"{name}, decided by {self.decided_by}"


def _protocols(w: Workload, results: Mapping[str, Result]) -> Reason:
    evidence, measured = cite(results, "protocols", ("mqtt", "stomp", "received"),
                              "notebook 03 publishes over MQTT and STOMP into RabbitMQ and reads it "
                              "over AMQP")
    if w.protocols:
        text = ("RabbitMQ speaks MQTT and STOMP itself (plugins that ship with it) and routes those "
                "messages into the same exchanges and queues as AMQP. Kafka needs a bridge or proxy in "
                "front for that.")
        return Reason("protocols", QUESTIONS["protocols"], ", ".join(p.upper() for p in w.protocols),
                      "RabbitMQ", True, text, evidence, measured, (notebook("03"),))
    return Reason("protocols", QUESTIONS["protocols"], "no MQTT/STOMP devices", "either", False,
                  "Every producer can use a native client, so protocol support does not decide.",
                  evidence, measured, (notebook("03"),))


def _history(w: Workload, results: Mapping[str, Result]) -> Reason:
    evidence, measured = cite(
        results, "persistence", ("second_group", "retention_ms"),
        "notebooks 01 and 05 show a second Kafka group reading records another group had consumed, "
        "and a RabbitMQ queue dropping each message on its ack")
    nbs = (notebook("01"), notebook("05"))
    answer = (f"replay {'yes' if w.replay else 'no'}, keep {_format_value(w.retention_days)} day(s) "
              "after consumption")
    if not w.keeps_history:
        return Reason("history", QUESTIONS["replay"], answer, "either", False,
                      "Messages may go once processed, as a RabbitMQ queue does on ack; a Kafka log "
                      "would keep them anyway until retention. Neither is ruled out.",
                      evidence, measured, nbs)
    streams = w.routing != "simple" or w.team == "rabbitmq" or bool(w.protocols)
    text = ("Queues (classic or quorum) remove a message on ack, so they cannot replay. A Kafka log keeps "
            "records until retention, and any group can re-read them by offset or time; a RabbitMQ "
            "stream keeps messages the same way and is read from any x-stream-offset. ")
    text += ("Streams fit here: your routing needs exchanges, your devices publish into RabbitMQ, or "
             "your team already runs it."
             if streams else "Kafka fits here: replay by offset or time is its native model.")
    if w.per_message:
        text += (" Trade-off: neither a log nor a stream has per-message retries, priorities or "
                 "dead-lettering; build them with retry and dead-letter topics, or put a queue "
                 "beside the log for that part of the work.")
    return Reason("history", QUESTIONS["replay"], answer, "RabbitMQ" if streams else "Kafka", True,
                  text, evidence, measured, nbs)


def _routing(w: Workload, results: Mapping[str, Result]) -> Reason:
    evidence, measured = cite(
        results, "delivery-guarantees", ("rabbitmq",),
        "notebook 03 routes with direct, topic, fanout and headers exchanges and acks after processing; "
        "notebook 04 counts redeliveries after a crash", limit=2)
    nbs = (notebook("03"), notebook("04"))
    answer = f"routing {w.routing}, per-message control {'yes' if w.per_message else 'no'}"
    if w.routing == "simple" and not w.per_message:
        return Reason("routing", QUESTIONS["routing"], answer, "either", False,
                      "A topic (Kafka) or a queue behind the default exchange (RabbitMQ) both do this.",
                      evidence, measured, nbs)
    parts = []
    if w.routing != "simple":
        parts.append("RabbitMQ's exchanges route in the broker: topic patterns with * and #, headers, "
                     "fanout, each a binding. In Kafka every consumer reads the whole topic and filters, "
                     "or a stream processor republishes into more topics.")
    if w.per_message:
        parts.append("RabbitMQ acks, rejects or requeues each message, dead-letters it, caps redeliveries "
                     "(quorum queues) and honours priorities. Kafka commits one offset per partition, "
                     "so one slow or poison record holds back those behind it.")
    return Reason("routing", QUESTIONS["routing"], answer, "RabbitMQ", True, " ".join(parts),
                  evidence, measured, nbs)


def _ordering(w: Workload, results: Mapping[str, Result]) -> Reason:
    evidence, measured = cite(
        results, "ordering", ("per_key", "competing_out_of_order", "single_consumer_in_order"),
        "notebook 05 keeps every key in order across Kafka partitions, keeps a RabbitMQ queue in FIFO "
        "order with one consumer, and breaks it with competing consumers and requeues")
    nbs = (notebook("05"),)
    if w.ordering == "per-key":
        return Reason("ordering", QUESTIONS["ordering"], "per key", "Kafka", True,
                      "Kafka hashes each key to one partition, so every key stays in order while a group "
                      "spreads the partitions over many consumers. A RabbitMQ queue is FIFO, but competing "
                      "consumers with requeues reorder it; per-key order there needs one queue and one "
                      "consumer per shard (e.g. a consistent-hash exchange), which the course does not "
                      "measure.",
                      evidence, measured, nbs)
    if w.ordering == "global":
        return Reason("ordering", QUESTIONS["ordering"], "global", "either", False,
                      "A total order means one partition (Kafka) or one queue (RabbitMQ), read by one "
                      "consumer at a time, on both systems. It caps the rate at what that one consumer "
                      "does, whichever you choose.", evidence, measured, nbs)
    return Reason("ordering", QUESTIONS["ordering"], "none", "either", False,
                  "No order needed: consumers can compete freely on both.", evidence, measured, nbs)


def _throughput(w: Workload, results: Mapping[str, Result]) -> Reason:
    c = throughput_ceilings(results)
    ceilings = {"Kafka": c.kafka, "RabbitMQ": c.rabbitmq}
    evidence = (f"{c.source}: Kafka {_format_value(round(c.kafka))} msg/s, "
                f"RabbitMQ {_format_value(round(c.rabbitmq))} msg/s")
    if not c.measured:
        evidence += f"; run {PurePosixPath(notebook('06')).stem} to measure yours"
    fits = {s: w.throughput <= HEADROOM * v for s, v in ceilings.items()}
    answer = f"{_format_value(w.throughput)} msg/s"
    nbs = (notebook("06"),)
    budget = " and ".join(f"{s} {_format_value(round(HEADROOM * v))}" for s, v in ceilings.items())
    if all(fits.values()):
        return Reason("throughput", QUESTIONS["throughput"], answer, "either", False,
                      f"Both fit within {HEADROOM:.0%} of their ceiling ({budget} msg/s). Throughput "
                      "does not decide, as for most workloads.", evidence, c.measured, nbs)
    if not c.measured and any(fits.values()):
        return Reason("throughput", QUESTIONS["throughput"], answer, "either", False,
                      f"Not measured on this machine yet. The published ceilings ({budget} msg/s at "
                      f"{HEADROOM:.0%}) compare Kafka without fsync against RabbitMQ's mirrored queues on "
                      "large hardware, so they cannot decide for your workload: measure both.",
                      evidence, c.measured, nbs)
    if any(fits.values()):
        winner = next(s for s, ok in fits.items() if ok)
        return Reason("throughput", QUESTIONS["throughput"], answer, winner, True,
                      f"Only {winner} fits within {HEADROOM:.0%} of its ceiling ({budget} msg/s). More "
                      "nodes raise both ceilings: measure on the hardware you will run.",
                      evidence, c.measured, nbs)
    return Reason("throughput", QUESTIONS["throughput"], answer, "Kafka", True,
                  f"Neither fits within {HEADROOM:.0%} of a single node's ceiling ({budget} msg/s): you need "
                  "a cluster. Kafka spreads one topic's partitions over many brokers; a RabbitMQ queue "
                  "lives on one node, so you would shard over many queues or streams.",
                  evidence, c.measured, nbs)


def _latency(w: Workload, results: Mapping[str, Result]) -> Reason:
    nbs = (notebook("07"),)
    p99 = latency_p99(results)
    stem = PurePosixPath(notebook("07")).stem
    if p99 is None:
        evidence, measured = cite(results, "latency", ("p99",),
                                  f"the article's ~5 ms vs ~1 ms were taken at different loads; run {stem}")
    else:
        at = f" at {_format_value(p99.at_rate)} msg/s" if p99.at_rate else ""
        evidence = (f"your run of {stem} (verdict: {results['latency'].verdict}): p99{at}, Kafka "
                    f"{_format_value(p99.kafka_ms)} ms, RabbitMQ {_format_value(p99.rabbitmq_ms)} ms")
        measured = True
    if w.latency_p99_ms is None:
        return Reason("latency", QUESTIONS["latency_p99_ms"], "no target", "either", False,
                      "No latency target, so latency does not decide.", evidence, measured, nbs)
    answer = f"p99 ≤ {_format_value(w.latency_p99_ms)} ms"
    if p99 is None:
        why = ("Your recorded latency verdict has no p99 pair to compare" if measured else
               "Not measured on this machine yet, and the article's two figures cannot be compared "
               "(different loads, different durability)")
        return Reason("latency", QUESTIONS["latency_p99_ms"], answer, "either", False,
                      why + ", so latency cannot decide.", evidence, measured, nbs)
    met = {"Kafka": p99.kafka_ms <= w.latency_p99_ms, "RabbitMQ": p99.rabbitmq_ms <= w.latency_p99_ms}
    caveat = ""
    if p99.at_rate and w.throughput > p99.at_rate:
        caveat = (f" Your rate is above the {_format_value(p99.at_rate)} msg/s it was measured at, and "
                  "latency grows with load: measure at your rate.")
    if all(met.values()):
        return Reason("latency", QUESTIONS["latency_p99_ms"], answer, "either", False,
                      "Both met the target in your measurement." + caveat, evidence, measured, nbs)
    if any(met.values()):
        winner = next(s for s, ok in met.items() if ok)
        return Reason("latency", QUESTIONS["latency_p99_ms"], answer, winner, True,
                      f"Only {winner} met the target in your measurement." + caveat, evidence, measured, nbs)
    return Reason("latency", QUESTIONS["latency_p99_ms"], answer, "either", False,
                  "Neither met the target on this machine; it does not pick one over the other. Tune "
                  "(batching, acks, fsync) or measure on faster hardware." + caveat, evidence, measured, nbs)


def _team(w: Workload, results: Mapping[str, Result]) -> Reason:
    nbs = (notebook("01"), notebook("05"))
    evidence = ("the operating models differ: partitions, segment files and retention (notebook 01) "
                "against queues, acks and a broker restart with durable queues (notebook 05)")
    runs = {"kafka": "Kafka", "rabbitmq": "RabbitMQ"}.get(w.team)
    if runs:
        return Reason("team", QUESTIONS["team"], runs, runs, True,
                      f"Your team already runs {runs}: its monitoring, upgrades and incident experience "
                      "count for more than most differences measured in this course. This decides when "
                      "no question above does.",
                      evidence, False, nbs)
    answer = "both" if w.team == "both" else "neither"
    return Reason("team", QUESTIONS["team"], answer, "either", False,
                  "Experience does not tip the balance either way.", evidence, False, nbs)


STEPS = (_protocols, _history, _routing, _ordering, _throughput, _latency, _team)


def recommend(workload: Workload, results: Mapping[str, Result] | None = None) -> Recommendation:
    """Walk the questions in the flowchart's order and return the choice with every reason.

    ``results`` are the learner's recorded verdicts (``claims.results()``); without them every
    reason cites the course instead of a measurement, and says which notebook to run.
    """
    results = dict(results or {})
    reasons = tuple(step(workload, results) for step in STEPS)
    deciding = next((r for r in reasons if r.decisive), None)
    choice = deciding.favours if deciding else "either"
    # A need for history is met inside RabbitMQ too (streams), so it is no trade-off there.
    trade_offs = tuple(
        f"{r.step}: {r.answer} points to {r.favours}" for r in reasons
        if deciding is not None and r.decisive and r is not deciding and r.favours != choice
        and not (r.step == "history" and choice == "RabbitMQ"))
    flavour = None
    if choice in ("RabbitMQ", "either"):
        flavour = ("streams" if workload.keeps_history
                   else "quorum queues" if workload.survive_node_loss else "classic queues")
    to_measure = tuple(dict.fromkeys(nb for r in reasons if not r.measured and r.step != "team"
                                     for nb in r.notebooks))
    return Recommendation(choice, flavour, deciding.step if deciding else None, reasons, trade_offs,
                          to_measure)


# --- rendering -----------------------------------------------------------------------------------

COLOURS = {"Kafka": "#37474f", "RabbitMQ": "#ef6c00", "either": "#2e7d32"}


def render_text(rec: Recommendation) -> str:
    """The recommendation as plain text, one reason per line."""
    lines = [rec.headline]
    for i, r in enumerate(rec.reasons, 1):
        mark = "DECIDES" if r.step == rec.decided_by else ("decisive" if r.decisive else "-")
        lines.append(f"{i}. [{mark}] {r.question}: {r.answer} → {r.favours}. {r.explanation} "
                     f"Evidence ({'measured' if r.measured else 'course'}): {r.evidence}. "
                     f"See {', '.join(r.notebooks)}.")
    if rec.trade_offs:
        lines.append("Trade-offs: " + "; ".join(rec.trade_offs))
    if rec.to_measure:
        lines.append("Run to measure: " + ", ".join(rec.to_measure))
    return "\n".join(lines)


def render_html(rec: Recommendation) -> str:
    """The recommendation as an HTML card: the choice, then each step with its evidence."""
    colour = COLOURS[rec.choice]
    items = []
    for r in rec.reasons:
        weight = "bold" if r.step == rec.decided_by else "normal"
        badge = ("<span style='color:#2e7d32'>your measurement</span>" if r.measured
                 else "<span style='color:#757575'>course</span>")
        items.append(
            f"<li style='font-weight:{weight}'>{escape(r.question)}: <i>{escape(r.answer)}</i> → "
            f"<b style='color:{COLOURS[r.favours]}'>{escape(r.favours)}</b>"
            f"{' (decides)' if r.step == rec.decided_by else ''}"
            f"<div style='font-weight:normal'>{escape(r.explanation)}<br>"
            f"<small>{badge}: {escape(r.evidence)} — see {escape(', '.join(r.notebooks))}</small>"
            "</div></li>")
    extra = ""
    if rec.trade_offs:
        extra += "<p><b>Trade-offs:</b> " + escape("; ".join(rec.trade_offs)) + "</p>"
    if rec.to_measure:
        extra += "<p><b>Measure on your machine:</b> run " + escape(", ".join(rec.to_measure)) + "</p>"
    return (f"<div style='border-left:6px solid {colour};padding:4px 10px'>"
            f"<h4 style='color:{colour};margin:4px 0'>{escape(rec.headline)}</h4>"
            f"<ol>{''.join(items)}</ol>{extra}</div>")


# --- flowcharts ----------------------------------------------------------------------------------

#: The article's "The Verdict: Choose Your Weapon" chart, as written (one statement per line).
ARTICLE_CHART = """graph TD
    A("Need Extreme Throughput?") --> G{"Yes"}
    B -->|Yes| C("Kafka")
    B -->|No| D("RabbitMQ")
    D --> H{"Complex Routing Needed?"}
    E -->|Yes| D
    E -->|No| C
    C --> F("Handles Billions of Messages")
    D --> I("Perfect for Microservices")"""

#: The course's corrected chart: the same walk as :func:`recommend`.
FIXED_CHART = """flowchart TD
    P{"Devices publish over<br>MQTT or STOMP?"}
    P -->|yes| RP(["RabbitMQ<br>MQTT/STOMP plugins, notebook 03"])
    P -->|no| H{"Replay history, or keep messages<br>after they are consumed?"}
    H -->|yes| HS{"Routing beyond one key,<br>or the team runs RabbitMQ?"}
    HS -->|yes| RS(["RabbitMQ streams<br>replay from x-stream-offset, notebook 05"])
    HS -->|no| KH(["Kafka<br>log + retention, replay by offset or time, notebooks 01 and 05"])
    H -->|no| R{"Content-based routing, many patterns,<br>or per-message acks, retries, priorities?"}
    R -->|yes| RQ(["RabbitMQ queues<br>quorum if a node may die, notebooks 03 and 04"])
    R -->|no| O{"Order per key, with<br>consumers in parallel?"}
    O -->|yes| KO(["Kafka<br>one key, one partition, notebook 05"])
    O -->|no| T{"Above half the rate either broker<br>reached in notebook 06?"}
    T -->|yes| KT(["The broker that kept up<br>Kafka if neither did: partitions spread, notebook 06"])
    T -->|no| L{"p99 target that only one<br>broker met in notebook 07?"}
    L -->|yes| LL(["The broker that met it<br>notebook 07"])
    L -->|no| TM{"The team already runs<br>one of them?"}
    TM -->|yes| TT(["The one you run<br>operations outweigh the measured differences"])
    TM -->|no| EI(["Either<br>throughput alone did not decide"])"""

_SHAPE = (r'(?:\(\[[^\]]*\]\)|\(\([^)]*\)\)|\("[^"]*"\)|\{"[^"]*"\}|\["[^"]*"\]'  # quoted labels
          r'|\([^)]*\)|\{[^}]*\}|\[[^\]]*\])')  # bare labels
_NODE = re.compile(rf"^\s*([A-Za-z0-9_]+)\s*({_SHAPE})?\s*")
_ARROW = re.compile(r"^-->\s*(?:\|([^|]*)\|)?\s*")


@dataclass(frozen=True)
class Chart:
    """A simple Mermaid flowchart: its nodes (id → label, '' when never given one), their shapes
    ('decision' for {…}) and its edges (source, label, target), in order."""

    labels: dict[str, str]
    decisions: frozenset[str]
    edges: tuple[tuple[str, str, str], ...]
    first: str | None


def parse_chart(source: str) -> Chart:
    """Read a flowchart made of ``A("label") -->|text| B{"label"}`` lines (what both charts use)."""
    labels: dict[str, str] = {}
    decisions: set[str] = set()
    edges: list[tuple[str, str, str]] = []
    order: list[str] = []

    def node(text: str) -> tuple[str, str]:
        match = _NODE.match(text)
        if not match:
            raise ValueError(f"cannot read a node in {text!r}")
        node_id, shape = match.group(1), match.group(2)
        if node_id not in labels:
            labels[node_id] = ""
            order.append(node_id)
        if shape:
            labels[node_id] = shape.strip("([{}])").strip('"')
            if shape.startswith("{"):
                decisions.add(node_id)
        return node_id, text[match.end():]

    for line in source.splitlines()[1:]:
        text = line.strip()
        if not text or text.startswith(("%%", "classDef", "class ", "style ")):
            continue
        source_id, rest = node(text)
        while rest:
            arrow = _ARROW.match(rest)
            if not arrow:
                raise ValueError(f"cannot read {rest!r} in {line!r}")
            target, rest = node(rest[arrow.end():])
            edges.append((source_id, (arrow.group(1) or "").strip(), target))
            source_id = target
    return Chart(labels, frozenset(decisions), tuple(edges), order[0] if order else None)


def flowchart_problems(source: str) -> list[str]:
    """What keeps a decision flowchart from working: nodes used but never defined, nodes the start
    cannot reach, questions that lead nowhere, and answers that are not labelled."""
    chart = parse_chart(source)
    problems = []
    out: dict[str, list[tuple[str, str]]] = {n: [] for n in chart.labels}
    for a, text, b in chart.edges:
        out[a].append((text, b))
    for n, label in chart.labels.items():
        if not label:
            problems.append(f"node {n} is used but never defined (Mermaid draws a bare box '{n}')")
    seen, todo = set(), [chart.first] if chart.first else []
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(b for _t, b in out[n])
    unreachable = [n for n in chart.labels if n not in seen]
    if unreachable:
        problems.append(f"from the first node {chart.first} ({chart.labels.get(chart.first) or '?'}), "
                        f"these can never be reached: {', '.join(unreachable)}")
    for n in chart.labels:
        label = chart.labels[n] or n
        is_question = n in chart.decisions or label.rstrip().endswith("?")
        if is_question and len(out[n]) < 2:
            problems.append(f"decision {n} ({label}) has {len(out[n])} way(s) out; a question needs at "
                            "least two")
        if is_question and any(not t for t, _b in out[n]):
            problems.append(f"decision {n} ({label}) has an unlabelled answer")
        if n in chart.decisions and not label.rstrip().endswith("?"):
            problems.append(f"node {n} ({label}) is drawn as a decision but asks nothing")
    return problems


def outcomes(source: str) -> dict[str, str]:
    """The leaves of a flowchart (nodes with no way out): id → label."""
    chart = parse_chart(source)
    sources = {a for a, _t, _b in chart.edges}
    return {n: label for n, label in chart.labels.items() if n not in sources}

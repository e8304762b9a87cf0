"""The recommendation: the corrected chart's questions, asked in order, each answered with a Reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from brokerlab.course.claims import Result
from brokerlab.course.decide.evidence import _format_value, cite, latency_p99, notebook, throughput_ceilings
from brokerlab.course.decide.workload import QUESTIONS, Workload

#: Plan for at most this fraction of a measured ceiling: peaks, retries and consumers need room.
HEADROOM = 0.5


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

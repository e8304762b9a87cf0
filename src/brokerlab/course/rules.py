"""How each claim's verdict follows from what a notebook measured: one stated rule per claim.

A rule is a list of cases, tried in order; the first whose condition holds gives the verdict. Each
case carries its condition in words, which :func:`brokerlab.course.claims.judge` prints beside the
verdict, so the learner reads the rule that decided. Tests feed every rule the other outcomes and
show that the verdict changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from brokerlab.course.claims import Verdict
from brokerlab.errors import BrokerlabError

Measured = Mapping[str, Any]


@dataclass(frozen=True)
class Case:
    """One case of a rule: ``verdict`` when ``test(measured)`` holds; ``when`` says it in words."""

    verdict: Verdict
    when: str
    test: Callable[[Measured], bool]


@dataclass(frozen=True)
class Rule:
    """The cases of one claim, tried in order, and the names of the measurements they read."""

    needs: tuple[str, ...]
    cases: tuple[Case, ...]

    def verdict(self, measured: Measured) -> Verdict:
        missing = [k for k in self.needs if k not in measured]
        if missing:
            raise BrokerlabError(f"The rule needs the measurement(s) {', '.join(missing)}.",
                                 f"Pass them all: {', '.join(self.needs)}.")
        for case in self.cases:
            if case.test(measured):
                return case.verdict
        raise BrokerlabError("No case of the rule matched: its last case must always hold.")

    def explain(self) -> str:
        return "; ".join(f"{c.verdict} when {c.when}" for c in self.cases)


def always(_: Measured) -> bool:
    """The last case of a rule: it holds when no earlier case did."""
    return True


# Conditions shared by more than one case of lessons 01-04's rules.
def _kafka_retains(m: Measured) -> bool:
    return (m["kafka_records_after_consuming"] == m["kafka_records_before_consuming"]
            and m["kafka_records_replayed"] == m["kafka_records_before_consuming"] > 0)


def _rabbitmq_removes_on_ack(m: Measured) -> bool:
    return (m["rabbitmq_held_while_unacked"] == m["rabbitmq_published"] > 0
            and m["rabbitmq_left_after_acks"] == 0)


def _kafka_pulls(m: Measured) -> bool:
    return (m["kafka_lag_growth"] >= 30 and m["kafka_fetch_requests"] is not None
            and 0 < m["kafka_fetch_requests"] < m["kafka_records_read"] / 10)


def _rabbitmq_pushes(m: Measured) -> bool:
    return (m["rabbitmq_pushed_unasked"] == m["rabbitmq_queued"] > 0
            and m["rabbitmq_delivered_before_acks"] == m["prefetch_count"]
            and m["rabbitmq_max_unacked_under_load"] == m["prefetch_count"])


# Each group of notebooks keeps its rules in its own block (edit only your block).

# --- lessons 01-04 ---------------------------------------------------------------------------
LESSONS_01_04: dict[str, Rule] = {
    # lesson 01: retain vs remove
    "retain-vs-remove": Rule(
        needs=("kafka_records_before_consuming", "kafka_records_after_consuming",
               "kafka_records_replayed", "rabbitmq_published", "rabbitmq_held_while_unacked",
               "rabbitmq_left_after_acks"),
        cases=(
            Case("confirmed", "Kafka still stored every record after a group consumed and committed "
                 "(and a second group read them all again) AND the RabbitMQ queue held its messages "
                 "until the acks, then none", lambda m: _kafka_retains(m) and _rabbitmq_removes_on_ack(m)),
            Case("half-true", "only one of those two halves held",
                 lambda m: _kafka_retains(m) or _rabbitmq_removes_on_ack(m)),
            Case("refuted", "neither half held", always),
        )),
    # lesson 01: push vs pull
    "push-vs-pull": Rule(
        needs=("kafka_lag_growth", "kafka_fetch_requests", "kafka_records_read",
               "rabbitmq_queued", "rabbitmq_pushed_unasked", "prefetch_count",
               "rabbitmq_delivered_before_acks", "rabbitmq_max_unacked_under_load"),
        cases=(
            Case("confirmed", "Kafka's slow consumer fell behind by at least 30 records (nothing was "
                 "sent that it did not fetch) and it fetched in batches (fewer fetch requests than a "
                 "tenth of the records read) AND RabbitMQ pushed a whole queue to a consumer that "
                 "asked for nothing, stopping at prefetch_count",
                 lambda m: _kafka_pulls(m) and _rabbitmq_pushes(m)),
            Case("half-true", "only one of those two halves held",
                 lambda m: _kafka_pulls(m) or _rabbitmq_pushes(m)),
            Case("refuted", "neither half held", always),
        )),
    # lesson 02: the article's producer snippet
    "kafka-producer-snippet": Rule(
        needs=("snippet_raised", "queued_after_snippet"),
        cases=(
            Case("refuted", "the snippet, run as printed, raised an exception",
                 lambda m: bool(m["snippet_raised"])),
            Case("confirmed", "the snippet ran and its message had left the producer",
                 lambda m: m["queued_after_snippet"] == 0),
            Case("half-true", "the snippet ran, but its message was still queued in the producer",
                 always),
        )),
    # notebook 03: the article's pika snippet, run as written and then driven
    "rabbitmq-consumer-snippet": Rule(
        needs=("snippet_callbacks", "returned_after_close", "acked_and_gone"),
        cases=(
            Case("refuted", "the snippet as written never ran its callback (nothing drove pika's I/O "
                 "loop)", lambda m: m["snippet_callbacks"] == 0),
            Case("half-true", "the callback ran, but the message came back to the queue when the "
                 "consumer left (it never acked)", lambda m: m["returned_after_close"]),
            Case("confirmed", "the callback ran and its message left the queue",
                 lambda m: m["acked_and_gone"]),
            Case("depends", "otherwise", always),
        )),
    # notebook 03: one broker, three protocols
    "protocols": Rule(
        needs=("mqtt_arrived", "stomp_arrived"),
        cases=(
            Case("confirmed", "a message published over MQTT and one over STOMP both reached an AMQP "
                 "consumer", lambda m: m["mqtt_arrived"] and m["stomp_arrived"]),
            Case("half-true", "only one of MQTT and STOMP reached an AMQP consumer",
                 lambda m: m["mqtt_arrived"] or m["stomp_arrived"]),
            Case("refuted", "otherwise", always),
        )),
    # notebook 04: "at-least once" on both brokers
    "delivery-guarantees": Rule(
        needs=("kafka_lost", "rabbit_lost"),
        cases=(
            Case("half-true", "a consumer that committed/acked before processing lost messages on BOTH "
                 "brokers (at-least-once only when the consumer acks after processing)",
                 lambda m: m["kafka_lost"] > 0 and m["rabbit_lost"] > 0),
            Case("confirmed", "no consumer lost a message on either broker, whatever its order of work",
                 lambda m: m["kafka_lost"] == 0 and m["rabbit_lost"] == 0),
            Case("depends", "otherwise (a loss on one broker only)", always),
        )),
}

# --- lessons 05-08 ---------------------------------------------------------------------------
LESSONS_05_08: dict[str, Rule] = {
    # notebook 05: "Kafka: per partition; RabbitMQ: none"
    "ordering": Rule(
        needs=("kafka_per_key_in_order", "rabbitmq_single_consumer_in_order"),
        cases=(
            Case("refuted", "a Kafka key lost its order", lambda m: not m["kafka_per_key_in_order"]),
            Case("confirmed", "Kafka kept every key's order and one RabbitMQ queue with one consumer did "
                 "NOT keep FIFO order", lambda m: not m["rabbitmq_single_consumer_in_order"]),
            Case("half-true", "Kafka kept every key's order and RabbitMQ kept FIFO order too (so its "
                 "'None' is wrong)", always),
        )),
    # notebook 05: "Kafka: default (log retention); RabbitMQ: optional (queue durability)"
    "persistence": Rule(
        needs=("kafka_second_group_read_all", "rabbitmq_restarted", "rabbitmq_only_persistent_survived"),
        cases=(
            Case("depends", "RabbitMQ was not restarted (shared brokers): only Kafka's half was measured",
                 lambda m: not m["rabbitmq_restarted"]),
            Case("confirmed", "Kafka kept consumed records for a second group, and only RabbitMQ's durable "
                 "queue with persistent messages kept them across the restart",
                 lambda m: m["kafka_second_group_read_all"] and m["rabbitmq_only_persistent_survived"]),
            Case("half-true", "one of those two halves held",
                 lambda m: m["kafka_second_group_read_all"] or m["rabbitmq_only_persistent_survived"]),
            Case("refuted", "otherwise", always),
        )),
    # notebook 06: Kafka/RabbitMQ throughput ratios at equal durability (D1 best client, D2 Python)
    "throughput": Rule(needs=("d1_ratio", "d2_ratio"), cases=(
        Case("half-true", "Kafka was at least 8x faster at both D1 and D2 (a large gap even at "
             "equal durability; the article's 16x still compared unequal setups)",
             lambda m: min(m["d1_ratio"], m["d2_ratio"]) >= 8),
        Case("refuted", "Kafka was less than 2x faster at both D1 and D2",
             lambda m: max(m["d1_ratio"], m["d2_ratio"]) < 2),
        Case("depends", "otherwise: the factor moves with the durability rung", always),
    )),
    # notebook 06: the best rate either broker reached on this machine, against 10^9 msg/s
    "scale": Rule(needs=("best_msgs_per_s",), cases=(
        Case("refuted", "the best rate measured here is below 10^8 msg/s, so billions per second "
             "would take more than ten such machines",
             lambda m: m["best_msgs_per_s"] < 1e8),
        Case("half-true", "otherwise", always),
    )),
    # notebook 07: corrected p99 of both brokers at the same (lowest) load and durability D1
    "latency": Rule(needs=("kafka_p99_ms", "rabbitmq_p99_ms"), cases=(
        Case("half-true", "RabbitMQ's p99 was less than half of Kafka's at the same load",
             lambda m: m["rabbitmq_p99_ms"] < m["kafka_p99_ms"] / 2),
        Case("refuted", "Kafka's p99 was less than half of RabbitMQ's at the same load",
             lambda m: m["kafka_p99_ms"] < m["rabbitmq_p99_ms"] / 2),
        Case("depends", "otherwise: within a factor of 2 of each other at the same load", always),
    )),
}

# --- labs 01-08 ------------------------------------------------------------------------------
LABS: dict[str, Rule] = {
    # Lab 01: the consumer-lag half of the pitfall line: where lag came from and what drained it.
    "pitfall-consumer-lag": Rule(
        needs=("lag_growth_per_s", "drained_by_scaling_out", "idle_members"),
        cases=(
            Case("confirmed", "one consumer slower than its producer fell behind (the lag grew, with no "
                              "error anywhere: only watching the lag shows it), more consumers up to the "
                              "partition count drained it, and members beyond the partition count sat idle",
                 lambda m: m["lag_growth_per_s"] > 0 and m["drained_by_scaling_out"]
                 and m["idle_members"] > 0),
            Case("half-true", "the lag grew, but scaling out did not drain it or the members beyond the "
                              "partition count were not idle",
                 lambda m: m["lag_growth_per_s"] > 0),
            Case("depends", "otherwise (the lag did not grow in this run)", always),
        )),
    # Lab 02: where the committed offset stood when a consumer died, and a group without offsets.
    "pitfall-offsets": Rule(
        needs=("before_lost", "after_lost", "after_duplicated", "earliest_replayed", "latest_skipped"),
        cases=(
            Case("confirmed", "committing before the work lost records, committing after it lost none and "
                              "replayed some, and a group without offsets replayed (earliest) or skipped "
                              "(latest) the old records",
                 lambda m: m["before_lost"] > 0 and m["after_lost"] == 0 and m["after_duplicated"] > 0
                 and m["earliest_replayed"] > 0 and m["latest_skipped"] > 0),
            Case("refuted", "no commit placement lost or replayed a record and a group without offsets "
                            "neither replayed nor skipped",
                 lambda m: m["before_lost"] == m["after_duplicated"] == m["earliest_replayed"]
                 == m["latest_skipped"] == 0),
            Case("half-true", "otherwise (some of the losses or replays did not happen)", always),
        )),
    # Lab 03: what acks=all bought (no acknowledged loss through a leader kill) and what it cost.
    "pitfall-acks": Rule(
        needs=("acks_all_lost", "p50_all_ms", "p50_1_ms"),
        cases=(
            Case("refuted", "acks=all lost an acknowledged record when the leader was killed",
                 lambda m: m["acks_all_lost"] > 0),
            Case("confirmed", "acks=all lost no acknowledged record and its median latency was above "
                              "acks=1's",
                 lambda m: m["p50_all_ms"] > m["p50_1_ms"]),
            Case("half-true", "acks=all lost nothing at no measurable latency cost", always),
        )),
    # Lab 03: the leader-election half of lab 01's pitfall line: 6 against 600 partitions, one broker killed.
    "pitfall-partition-elections": Rule(
        needs=("leaders_moved_few", "leaders_moved_many", "reelected_few_s", "reelected_many_s"),
        cases=(
            Case("refuted", "more partitions did not move more leaders when one broker was killed",
                 lambda m: m["leaders_moved_many"] <= m["leaders_moved_few"]),
            Case("confirmed", "more partitions moved more leaders AND re-electing them took more than "
                              "twice as long: the partition count set the pause",
                 lambda m: m["reelected_many_s"] > 2 * m["reelected_few_s"]),
            Case("half-true", "more partitions moved more leaders, but re-electing them took less than "
                              "twice as long: a broker failure causes elections, and noticing it set the "
                              "pause, not the partition count", always),
        )),
    # labs 04-07
    "pitfall-queue-explosion": Rule(
        needs=("peak_unacked_no_prefetch", "peak_unacked_prefetch", "backlog_prefetch"),
        cases=(
            Case("refuted", "without a prefetch limit no more than 100 messages were ever unacknowledged "
                            "(5 s of the consumer's work): nothing piled up",
                 lambda m: m["peak_unacked_no_prefetch"] <= 100),
            Case("half-true", "unacknowledged messages piled up (more than 100) without a prefetch limit, "
                              "but with prefetch 10 (at most 10 unacknowledged) the same slow consumer still "
                              "ended more than 300 messages behind: the pile moved to ready, the cause is a "
                              "consumer slower than its producer",
                 lambda m: m["peak_unacked_prefetch"] <= 10 and m["backlog_prefetch"] > 300),
            Case("confirmed", "unacknowledged messages piled up without a prefetch limit, and a prefetch "
                              "limit alone kept the backlog at 300 or below",
                 lambda m: m["peak_unacked_prefetch"] <= 10),
            Case("depends", "otherwise (the prefetch limit did not hold the unacknowledged count at 10)",
                 always),
        )),
    "pitfall-complex-routing": Rule(
        needs=("dropped_silently", "max_copies_per_service", "flat_design_exact"),
        cases=(
            Case("confirmed", "the layered graph dropped a confirmed message silently or gave one service a "
                              "message twice, and the flat design with an alternate exchange put every key "
                              "exactly where wanted, once",
                 lambda m: (m["dropped_silently"] > 0 or m["max_copies_per_service"] > 1)
                 and m["flat_design_exact"]),
            Case("refuted", "the layered graph neither dropped nor duplicated anything",
                 lambda m: m["dropped_silently"] == 0 and m["max_copies_per_service"] <= 1),
            Case("depends", "otherwise (the flat design went wrong too: the trouble is not the layering)",
                 always),
        )),
    "pitfall-node-failure": Rule(
        needs=("quorum_confirmed", "quorum_lost", "confirmed_without_majority"),
        cases=(
            Case("confirmed", "the quorum queue lost a message it had confirmed when one node died",
                 lambda m: m["quorum_lost"] > 0),
            Case("half-true", "the quorum queue failed over by itself with every confirmed message kept "
                              "(and it confirmed some), and with its majority down it confirmed nothing: "
                              "the care needed is keeping a majority up",
                 lambda m: m["quorum_confirmed"] > 0 and not m["confirmed_without_majority"]),
            Case("depends", "otherwise (nothing was confirmed to judge by, or a minority confirmed)", always),
        )),
    "dead-letter-queues": Rule(
        needs=("without_dead_lettering", "parked_after_limit", "kafka_dead_lettered"),
        cases=(
            Case("confirmed", "without dead-lettering the poison message looped for ever or was dropped, "
                              "and with a delivery limit and a dead-letter exchange (and in Kafka a "
                              "dead-letter topic) it was parked where someone can look at it",
                 lambda m: m["without_dead_lettering"] in ("looped", "dropped")
                 and m["parked_after_limit"] and m["kafka_dead_lettered"]),
            Case("refuted", "neither the dead-letter queue nor the dead-letter topic received the poison "
                            "message",
                 lambda m: not m["parked_after_limit"] and not m["kafka_dead_lettered"]),
            Case("depends", "otherwise (only one of the two parked it, or the plain queue coped by itself)",
                 always),
        )),
    # Lab 08: a fourth node added to each running cluster, with clients counting every id.
    "horizontal-scaling": Rule(
        needs=("kafka_lost", "kafka_new_broker_leaders", "rabbitmq_lost", "rabbitmq_new_node_leaders"),
        cases=(
            Case("refuted", "Kafka lost an acknowledged record while it grew, or its new broker led no "
                            "partition of the topic after the reassignment",
                 lambda m: m["kafka_lost"] > 0 or m["kafka_new_broker_leaders"] == 0),
            Case("confirmed", "Kafka grew without losing an acknowledged record and its new broker led part "
                              "of the topic, while RabbitMQ lost a confirmed message or its new node led no "
                              "quorum queue after the rebalance",
                 lambda m: m["rabbitmq_lost"] > 0 or m["rabbitmq_new_node_leaders"] == 0),
            Case("half-true", "otherwise: both grew online with nothing acknowledged lost and each new node "
                              "took leaders; Kafka spread one topic over it, RabbitMQ moved whole queues "
                              "(one queue keeps one leader)", always),
        )),
}

# --- lesson 05b ------------------------------------------------------------------------------
def _stream_readers(m: Measured, quantifier: Callable[..., bool]) -> bool:
    """Whether ``all`` / ``any`` of the stream's readers got every message written to it."""
    return quantifier(n == m["stream_messages"] for n in m["stream_reader_counts"])


def _orders(m: Measured) -> tuple[bool, bool]:
    """(the Kafka share group kept the written order, the RabbitMQ stream was read in order)."""
    return m["share_group_inversions"] == 0, bool(m["stream_in_order"])


def _queue_emptied(m: Measured) -> bool:
    return m["queue_left_after_ack"] == 0


# Each claim's cases, first match wins (the last case always holds).
_ORDERING = (
    Case("depends", "a Kafka share group finished jobs out of order AND a RabbitMQ stream was read in "
                    "offset order (order follows the model, log or queue, not the product)",
         lambda m: _orders(m) == (False, True)),
    Case("confirmed", "the share group kept the order AND the stream did not",
         lambda m: _orders(m) == (True, False)),
    Case("half-true", "otherwise", always),
)
_AFTER_CONSUMPTION = (
    Case("half-true", "every RabbitMQ stream reader got every message AND the quorum queue was empty "
                      "after its acks (a queue removes on ack, a stream keeps)",
         lambda m: _stream_readers(m, all) and _queue_emptied(m)),
    Case("confirmed", "no stream reader got every message AND the queue was empty after its acks",
         lambda m: not _stream_readers(m, any) and _queue_emptied(m)),
    Case("depends", "otherwise", always),
)
_ACKS = (
    Case("half-true", "a Kafka share group accepted, released AND rejected single records "
                      "(consumer groups still commit offsets)",
         lambda m: m["share_accepted"] > 0 and m["share_released"] > 0 and m["share_rejected"] > 0),
    Case("confirmed", "otherwise (no per-record acknowledgement seen on the Kafka side)", always),
)
LESSON_05B: dict[str, Rule] = {
    "ordering-both-models": Rule(needs=("share_group_inversions", "stream_in_order"), cases=_ORDERING),
    "after-consumption-both-models": Rule(
        needs=("stream_reader_counts", "stream_messages", "queue_left_after_ack"), cases=_AFTER_CONSUMPTION),
    "acks-both-models": Rule(needs=("share_accepted", "share_released", "share_rejected"), cases=_ACKS),
}

RULES: dict[str, Rule] = {**LESSONS_01_04, **LESSONS_05_08, **LABS, **LESSON_05B}


def rule(claim_id: str) -> Rule:
    """The rule that decides ``claim_id``'s verdict."""
    try:
        return RULES[claim_id]
    except KeyError:
        raise BrokerlabError(f"No verdict rule for claim {claim_id!r}.",
                             "Rules live in brokerlab/course/rules.py.") from None

"""The article's claims, where the course tests each one, and the verdicts the learner measured.

Definitions live here; verdicts are recorded by the notebooks into the learner's own
``<data dir>/progress/claims.json``, so notebook 08 can show a scorecard of *their* evidence.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from brokerlab import settings
from brokerlab.errors import BrokerlabError

Verdict = Literal["confirmed", "refuted", "half-true", "depends"]
VERDICTS: tuple[Verdict, ...] = ("confirmed", "refuted", "half-true", "depends")
VERDICT_COLOURS: dict[str, str] = {"confirmed": "#2e7d32", "refuted": "#c62828", "half-true": "#ef6c00",
                                   "depends": "#1565c0"}


@dataclass(frozen=True)
class Claim:
    """One claim of the article, quoted, and the notebook that tests it."""

    id: str
    topic: str
    article: str
    tested_in: str


CLAIMS: tuple[Claim, ...] = (
    Claim("push-vs-pull", "Push vs pull",
          "Kafka: consumers pull data in batched offsets; RabbitMQ pushes to consumers.",
          "notebooks/01_two_architectures.ipynb"),
    Claim("retain-vs-remove", "What happens after consumption",
          "Kafka: write to log, replicate. RabbitMQ: store in queue, remove on ack.",
          "notebooks/01_two_architectures.ipynb"),
    Claim("kafka-producer-snippet", "The article's Kafka producer code",
          "producer.produce(topic=..., key=..., value=...).get()",
          "notebooks/02_kafka_walkthrough.ipynb"),
    Claim("rabbitmq-consumer-snippet", "The article's RabbitMQ consumer code",
          "channel.basic_consume(queue='orders', on_message_callback=callback)",
          "notebooks/03_rabbitmq_walkthrough.ipynb"),
    Claim("protocols", "Protocol support",
          "RabbitMQ: message broker with AMQP/STOMP/MQTT support.",
          "notebooks/03_rabbitmq_walkthrough.ipynb"),
    Claim("delivery-guarantees", "Delivery guarantees",
          "Kafka: at-least once (acks=all). RabbitMQ: at-least once (positive acknowledgments).",
          "notebooks/04_delivery_guarantees.ipynb"),
    Claim("ordering", "Message ordering",
          "Kafka: per partition (logging model). RabbitMQ: none (queue per consumer).",
          "notebooks/05_ordering_persistence_replay.ipynb"),
    Claim("persistence", "Message persistence",
          "Kafka: default (log retention). RabbitMQ: optional (queue durability).",
          "notebooks/05_ordering_persistence_replay.ipynb"),
    Claim("throughput", "Max throughput",
          "Kafka 605 MB/s vs RabbitMQ 38 MB/s: under heavy load Kafka handles 16x more throughput.",
          "notebooks/06_throughput_benchmarks.ipynb"),
    Claim("scale", "Scale",
          "Kafka: billions of messages/sec. RabbitMQ: millions of messages/sec.",
          "notebooks/06_throughput_benchmarks.ipynb"),
    Claim("latency", "Latency",
          "Kafka ~5 ms at high load; RabbitMQ ~1 ms at low load.",
          "notebooks/07_latency_benchmarks.ipynb"),
    # The article's pitfalls and tips, tested by the labs.
    Claim("pitfall-consumer-lag", "Kafka pitfall: consumer lag",
          "Consumer lag: [...] Monitor consumer lag in high-throughput scenarios",
          "labs/01_consumer_lag.ipynb"),
    Claim("pitfall-offsets", "Kafka pitfall: offset management",
          "Offset management: Losing offsets = message loss/replay",
          "labs/02_offset_management.ipynb"),
    Claim("pitfall-acks", "Kafka pitfall: producer acks",
          "Producer configurations: acks=all trades latency for reliability",
          "labs/03_acks_and_replication.ipynb"),
    Claim("pitfall-partition-elections", "Kafka pitfall: partitions and leader elections",
          "Consumer lag: Too many partitions = partition leader elections",
          "labs/03_acks_and_replication.ipynb"),
    Claim("pitfall-queue-explosion", "RabbitMQ pain point: queue explosion",
          "Queue explosion: Unacked messages pile up in memory",
          "labs/04_queue_explosion.ipynb"),
    Claim("pitfall-complex-routing", "RabbitMQ pain point: complex routing",
          "Complex routing: Over-engineered exchange/binding setups",
          "labs/05_complex_routing.ipynb"),
    Claim("pitfall-node-failure", "RabbitMQ pain point: node failure",
          "Node failure: Quorum queues need careful cluster management",
          "labs/06_quorum_queues_node_failure.ipynb"),
    Claim("dead-letter-queues", "RabbitMQ tip: dead-letter queues",
          "Use dead-letter queues for error handling",
          "labs/07_poison_messages_dlq.ipynb"),
    Claim("horizontal-scaling", "Horizontal scaling",
          "Scalability: Kafka scales horizontally, better than RabbitMQ.",
          "labs/08_scale_out.ipynb"),
    # Lesson 05b: the rows that rest on "Kafka is a log, RabbitMQ is a queue", re-scored now that
    # each system has the other's model (Kafka share groups, RabbitMQ streams).
    Claim("ordering-both-models", "Message ordering, now that both have both models",
          "Message Ordering: Kafka per partition (logging model); RabbitMQ none (queue per consumer).",
          "notebooks/05b_each_borrows_the_others_model.ipynb"),
    Claim("after-consumption-both-models", "What happens after consumption, with both models",
          "Kafka: write to log, replicate. RabbitMQ: store in queue, remove on ack.",
          "notebooks/05b_each_borrows_the_others_model.ipynb"),
    Claim("acks-both-models", "Acknowledgements, with both models",
          "Kafka: consumers pull data in batched offsets. RabbitMQ: at-least once delivery guarantees "
          "with consumer acknowledgments.",
          "notebooks/05b_each_borrows_the_others_model.ipynb"),
)


@dataclass(frozen=True)
class Result:
    """A verdict the learner's own run produced, with the numbers behind it."""

    claim_id: str
    verdict: Verdict
    summary: str
    evidence: dict
    recorded_at: float


def claim(claim_id: str) -> Claim:
    """The claim with this id (a clear error listing the ids otherwise)."""
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise BrokerlabError(f"No claim {claim_id!r}.", "Known ids: " + ", ".join(c.id for c in CLAIMS))


def _store() -> Path:
    return settings.progress_dir() / "claims.json"


def results() -> dict[str, Result]:
    """Every verdict recorded so far on this machine, by claim id."""
    try:
        raw = json.loads(_store().read_text())
    except (OSError, ValueError):
        return {}
    return {k: Result(**v) for k, v in raw.items() if isinstance(v, dict)}


def record(claim_id: str, verdict: Verdict, summary: str, evidence: dict) -> Result:
    """Store the verdict a notebook measured for ``claim_id`` (the latest run wins)."""
    claim(claim_id)
    if verdict not in VERDICTS:
        raise BrokerlabError(f"Verdict {verdict!r} is not one of {', '.join(VERDICTS)}.")
    result = Result(claim_id, verdict, summary, json.loads(json.dumps(evidence, default=str)),
                    time.time())
    everything = {k: asdict(v) for k, v in results().items()}
    everything[claim_id] = asdict(result)
    path = _store()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(everything, indent=2))
    tmp.replace(path)
    return result


def judge(claim_id: str, measured: dict, summary: str | dict[str, str], evidence: dict) -> Result:
    """Compute ``claim_id``'s verdict from ``measured`` by its stated rule, record it and show it.

    ``summary`` is one text, or one text per verdict the rule can give. The card shows the rule,
    the measurements it read and the verdict it gave."""
    from brokerlab.course.rules import rule

    decides = rule(claim_id)
    verdict = decides.verdict(measured)
    text = summary if isinstance(summary, str) else summary[verdict]
    evidence = {**evidence, "rule": decides.explain(),
                "measured for the rule": ", ".join(f"{k}={measured[k]}" for k in decides.needs)}
    result = record(claim_id, verdict, text, evidence)
    show(result)
    return result


def show(result: Result) -> None:
    """Display a recorded verdict as a small card in Jupyter (plain text elsewhere)."""
    from html import escape

    from IPython.display import HTML, display

    c = claim(result.claim_id)
    colour = VERDICT_COLOURS[result.verdict]
    rows = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>"
                   for k, v in result.evidence.items())
    html = (f"<div style='border-left:6px solid {colour};padding:4px 10px'>"
            f"<b>Claim — {escape(c.topic)}</b>: <i>“{escape(c.article)}”</i><br>"
            f"<b style='color:{colour}'>{result.verdict.upper()}</b> — {escape(result.summary)}"
            f"<table>{rows}</table></div>")
    text = f"[{result.verdict.upper()}] {c.topic}: {result.summary} {result.evidence}"
    display(HTML(html), metadata={}) if _in_notebook() else print(text)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"
    except ImportError:
        return False

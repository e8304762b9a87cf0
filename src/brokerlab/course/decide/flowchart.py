"""Simple Mermaid flowcharts: the article's chart, the course's corrected one, and what breaks one."""

from __future__ import annotations

import re
from dataclasses import dataclass

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

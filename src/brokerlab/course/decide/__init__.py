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

The package also holds the article's own decision flowchart (:data:`ARTICLE_CHART`, as written)
and :func:`flowchart_problems`, which finds what is broken in a simple Mermaid flowchart.

One job per module: ``workload`` (the questions, the answers validated), ``evidence`` (recorded
measurements, else the course's facts), ``recommendation`` (the walk and its reasons), ``render``
(text and HTML) and ``flowchart`` (the two charts and their checks).
"""

from brokerlab.course.decide.evidence import (
    NOTEBOOKS,
    PUBLISHED_CEILINGS,
    cite,
    latency_p99,
    throughput_ceilings,
)
from brokerlab.course.decide.flowchart import (
    ARTICLE_CHART,
    FIXED_CHART,
    flowchart_problems,
    outcomes,
    parse_chart,
)
from brokerlab.course.decide.recommendation import Recommendation, recommend
from brokerlab.course.decide.render import render_html, render_text
from brokerlab.course.decide.workload import (
    ORDERING,
    PROTOCOLS,
    QUESTIONS,
    ROUTING,
    TEAMS,
    Workload,
    WorkloadError,
    parse_workload,
)

__all__ = [
    "ARTICLE_CHART",
    "FIXED_CHART",
    "NOTEBOOKS",
    "ORDERING",
    "PROTOCOLS",
    "PUBLISHED_CEILINGS",
    "QUESTIONS",
    "ROUTING",
    "TEAMS",
    "Recommendation",
    "Workload",
    "WorkloadError",
    "cite",
    "flowchart_problems",
    "latency_p99",
    "outcomes",
    "parse_chart",
    "parse_workload",
    "recommend",
    "render_html",
    "render_text",
    "throughput_ceilings",
]

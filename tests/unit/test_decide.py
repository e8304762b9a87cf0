"""The decision helper of notebook 08: validation, every path of the redrawn chart, evidence, charts."""

import json
import math
import re
from pathlib import Path

import pytest

from brokerlab.course import claims, decide

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "08_the_verdict.ipynb"


def result(claim_id, evidence, verdict="depends"):
    return claims.Result(claim_id, verdict, f"summary of {claim_id}", evidence, 1_700_000_000.0)


# Shaped like what notebooks 05, 06 and 07 record.
SCALE = result("scale", {"measured here — best Kafka msg/s (median of a configuration)": 40_000,
                         "measured here — best RabbitMQ msg/s (median of a configuration)": 8_000,
                         "measured here — machines like this one for 10^9 msg/s (Kafka, RabbitMQ)": [1, 2]},
               "refuted")
LATENCY = result("latency", {
    "measured here — p99 corrected at 1000 msg/s, Kafka / RabbitMQ (ms)": [12.5, 3.2],
    "measured here — machine": "2 CPUs"})
ORDERING = result("ordering", {"kafka_per_key_in_order": True, "rabbitmq_competing_out_of_order": 68,
                               "kafka_records": 1200}, "half-true")


def w(**answers):
    return decide.parse_workload({"throughput": 100, **answers})


# --- validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, value", [(5000, 5000), ("5000", 5000), ("5,000", 5000), ("5k", 5000),
                                        ("2.5M", 2_500_000), (" 300 msg/s ", 300), (1.5, 1.5),
                                        ("1e4", 10_000)])
def test_throughput_accepts_what_people_type(raw, value):
    assert decide.parse_workload({"throughput": raw}).throughput == value


def test_defaults_and_other_fields():
    workload = decide.parse_workload({"throughput": "1k", "latency_p99_ms": "20 ms",
                                      "retention_days": "7 days", "replay": "yes", "per_message": "no",
                                      "ordering": "Per key",
                                      "routing": "many_patterns", "team": "RabbitMQ",
                                      "protocols": "mqtt, STOMP, mqtt"})
    assert workload == decide.Workload(1000, "per-key", "many-patterns", True, 7, 20, False, True,
                                       "rabbitmq", ("mqtt", "stomp"))
    plain = decide.parse_workload({"throughput": 10})
    assert (plain.ordering, plain.routing, plain.replay, plain.retention_days, plain.latency_p99_ms,
            plain.team, plain.protocols, plain.survive_node_loss) == ("none", "simple", False, 0, None,
                                                                      "none", (), True)
    assert decide.parse_workload({"throughput": 10, "latency_p99_ms": "  "}).latency_p99_ms is None
    assert decide.parse_workload({"throughput": 10, "protocols": ["none"]}).protocols == ()


@pytest.mark.parametrize("answers, fragment", [
    ({"throughput": "lots"}, "'lots' is not a number"),
    ({"throughput": 0}, "must be more than 0"),
    ({"throughput": -5}, "must be more than 0"),
    ({"throughput": "nan"}, "must be more than 0"),
    ({"throughput": math.inf}, "must be more than 0"),
    ({"throughput": True}, "is not a number"),
    ({}, "an answer is needed"),
    ({"throughput": 1, "latency_p99_ms": "0"}, "must be more than 0"),
    ({"throughput": 1, "retention_days": "-1"}, "must be 0 or more"),
    ({"throughput": 1, "retention_days": "5k"}, "is not a number"),  # k/M only for rates
    ({"throughput": 1, "ordering": "random"}, "'random' is not one of none, per-key, global"),
    ({"throughput": 1, "routing": "fancy"}, "is not one of simple, content-based, many-patterns"),
    ({"throughput": 1, "team": "pulsar"}, "is not one of none, kafka, rabbitmq, both"),
    ({"throughput": 1, "replay": "maybe"}, "'maybe' is not yes or no"),
    ({"throughput": 1, "protocols": ["amqp"]}, "'amqp' is not one of mqtt, stomp"),
    ({"throughput": 1, "speed": "fast"}, "Unknown answer(s) 'speed'"),
])
def test_wrong_answers_give_a_clear_message(answers, fragment):
    with pytest.raises(decide.WorkloadError) as info:
        decide.parse_workload(answers)
    assert any(fragment in p for p in info.value.problems), info.value.problems


def test_every_problem_is_reported_at_once():
    with pytest.raises(decide.WorkloadError) as info:
        decide.parse_workload({"throughput": "x", "ordering": "y", "latency_p99_ms": "-1"})
    assert len(info.value.problems) == 3
    assert isinstance(info.value, ValueError)


def test_a_workload_built_by_hand_is_validated_too():
    with pytest.raises(decide.WorkloadError, match="must be a tuple"):
        decide.Workload(10, protocols=["mqtt"])
    with pytest.raises(decide.WorkloadError, match="must be True or False"):
        decide.Workload(10, replay="yes")
    with pytest.raises(decide.WorkloadError, match="above 0"):
        decide.Workload(0)


# --- every path of the redrawn chart ---------------------------------------------------------------

# leaf of decide.FIXED_CHART → (answers, recorded results, choice, flavour, deciding step)
PATHS = {
    "RP": ({"protocols": ["mqtt"], "survive_node_loss": False}, {}, "RabbitMQ", "classic queues",
           "protocols"),
    "RS": ({"replay": True, "routing": "content-based"}, {}, "RabbitMQ", "streams", "history"),
    "KH": ({"retention_days": 30}, {}, "Kafka", None, "history"),
    "RQ": ({"per_message": True}, {}, "RabbitMQ", "quorum queues", "routing"),
    "KO": ({"ordering": "per-key"}, {}, "Kafka", None, "ordering"),
    "KT": ({"throughput": "10k"}, {"scale": SCALE}, "Kafka", None, "throughput"),
    "LL": ({"latency_p99_ms": 5}, {"latency": LATENCY}, "RabbitMQ", "quorum queues", "latency"),
    "TT": ({"team": "kafka"}, {}, "Kafka", None, "team"),
    "EI": ({"team": "both"}, {}, "either", "quorum queues", None),
}


def test_paths_cover_every_outcome_of_the_chart():
    assert set(PATHS) == set(decide.outcomes(decide.FIXED_CHART))


@pytest.mark.parametrize("leaf", PATHS)
def test_recommend_follows_the_redrawn_chart(leaf):
    answers, results, choice, flavour, step = PATHS[leaf]
    rec = decide.recommend(w(**answers), results)
    assert (rec.choice, rec.flavour, rec.decided_by) == (choice, flavour, step), rec.headline
    assert [r.step for r in rec.reasons] == ["protocols", "history", "routing", "ordering", "throughput",
                                             "latency", "team"]
    deciding = [r for r in rec.reasons if r.decisive]
    assert (deciding[0].step if deciding else None) == step
    label = decide.outcomes(decide.FIXED_CHART)[leaf]
    if choice != "either" and not label.startswith("The "):
        assert label.startswith(choice)


def test_every_reason_cites_a_notebook_that_exists():
    for answers, results, *_ in PATHS.values():
        for reason in decide.recommend(w(**answers), results).reasons:
            assert reason.notebooks
            for notebook in reason.notebooks:
                assert (ROOT / notebook).is_file(), notebook
            assert reason.explanation and reason.evidence and reason.question


def test_history_with_per_message_needs_is_a_trade_off():
    rec = decide.recommend(w(replay=True, per_message=True, ordering="per-key"), {})
    assert rec.choice == "Kafka" and rec.decided_by == "history"
    assert any(t.startswith("routing") and "RabbitMQ" in t for t in rec.trade_offs)
    assert not any(t.startswith("ordering") for t in rec.trade_offs)  # it agrees with Kafka
    assert "retry and dead-letter topics" in rec.reasons[1].explanation


def test_team_running_rabbitmq_gets_streams_for_replay():
    rec = decide.recommend(w(replay=True, team="rabbitmq"), {})
    assert (rec.choice, rec.flavour) == ("RabbitMQ", "streams")


# --- evidence: measured where recorded, the course otherwise ----------------------------------------

def test_recorded_measurements_are_cited_and_unmeasured_ones_named():
    fresh = decide.recommend(w(ordering="per-key"), {})
    ordering = next(r for r in fresh.reasons if r.step == "ordering")
    assert not ordering.measured and ordering.evidence.startswith("not measured on this machine yet")
    assert "notebooks/05_ordering_persistence_replay.ipynb" in fresh.to_measure

    measured = decide.recommend(w(ordering="per-key"), {"ordering": ORDERING})
    ordering = next(r for r in measured.reasons if r.step == "ordering")
    assert ordering.measured
    assert "your run of 05_ordering_persistence_replay (verdict: half-true)" in ordering.evidence
    assert "rabbitmq_competing_out_of_order = 68" in ordering.evidence
    assert "kafka_records" not in ordering.evidence  # only the numbers that matter for the step


def test_cite_falls_back_to_the_summary():
    text, measured = decide.cite({"persistence": result("persistence", {"other": 1})}, "persistence",
                                 ("second_group",), "course")
    assert measured and text.endswith("summary of persistence")


def test_throughput_ceilings_from_scale_evidence_or_published():
    ceilings = decide.throughput_ceilings({"scale": SCALE})
    assert (ceilings.kafka, ceilings.rabbitmq, ceilings.measured) == (40_000, 8_000, True)
    assert decide.throughput_ceilings({}) == decide.PUBLISHED_CEILINGS
    half = decide.throughput_ceilings({"scale": result("scale", {"best Kafka msg/s": 5})})
    assert half == decide.PUBLISHED_CEILINGS  # one system only: not a comparison


@pytest.mark.parametrize("rate, favours, decisive", [(3_000, "either", False), (10_000, "Kafka", True),
                                                     (30_000, "Kafka", True)])
def test_throughput_decides_only_above_half_a_measured_ceiling(rate, favours, decisive):
    reason = next(r for r in decide.recommend(w(throughput=rate), {"scale": SCALE}).reasons
                  if r.step == "throughput")
    assert (reason.favours, reason.decisive, reason.measured) == (favours, decisive, True)
    assert "40,000" in reason.evidence and "8,000" in reason.evidence


def test_unmeasured_throughput_never_decides_below_the_published_ceilings():
    reason = next(r for r in decide.recommend(w(throughput="100k"), {}).reasons if r.step == "throughput")
    assert not reason.decisive and not reason.measured and "Not measured" in reason.explanation
    above = next(r for r in decide.recommend(w(throughput="5M"), {}).reasons if r.step == "throughput")
    assert above.decisive and above.favours == "Kafka"


def test_latency_from_the_recorded_p99s():
    p99 = decide.latency_p99({"latency": LATENCY})
    assert (p99.kafka_ms, p99.rabbitmq_ms, p99.at_rate) == (12.5, 3.2, 1000)
    assert decide.latency_p99({}) is None
    assert decide.latency_p99({"latency": result("latency", {"p99": "n/a"})}) is None
    both = decide.recommend(w(latency_p99_ms=50), {"latency": LATENCY})
    assert both.choice == "either"
    loaded = next(r for r in decide.recommend(w(throughput=5000, latency_p99_ms=5),
                                              {"latency": LATENCY}).reasons if r.step == "latency")
    assert loaded.favours == "RabbitMQ" and "measure at your rate" in loaded.explanation
    none_met = next(r for r in decide.recommend(w(latency_p99_ms=1), {"latency": LATENCY}).reasons
                    if r.step == "latency")
    assert not none_met.decisive and "Neither met" in none_met.explanation
    unmeasured = next(r for r in decide.recommend(w(latency_p99_ms=1), {}).reasons if r.step == "latency")
    assert not unmeasured.decisive and "notebooks/07_latency_benchmarks.ipynb" in unmeasured.notebooks


def test_rendering():
    rec = decide.recommend(w(protocols=["stomp"], replay=True), {"ordering": ORDERING})
    text = decide.render_text(rec)
    assert text.splitlines()[0] == rec.headline == "RabbitMQ (streams), decided by protocols"
    assert "[DECIDES]" in text and "Trade-offs" not in text
    html = decide.render_html(rec)
    assert rec.headline in html and "your measurement" in html and "<script" not in html


# --- the charts ------------------------------------------------------------------------------------

def test_the_article_chart_is_broken_where_the_notebook_says():
    problems = decide.flowchart_problems(decide.ARTICLE_CHART)
    text = "\n".join(problems)
    assert "node B is used but never defined" in text and "node E is used but never defined" in text
    assert "decision G (Yes) has 0 way(s)" in text and "decision H (Complex Routing Needed?) has 0" in text
    assert "can never be reached: B, C, D, H, E, F, I" in text


def test_the_redrawn_chart_is_sound():
    assert decide.flowchart_problems(decide.FIXED_CHART) == []
    chart = decide.parse_chart(decide.FIXED_CHART)
    for question in chart.decisions:
        assert sorted(t for a, t, _b in chart.edges if a == question) == ["no", "yes"]


def test_flowchart_problems_catches_each_mistake():
    assert decide.flowchart_problems('graph TD\n  A{"Q?"} -->|yes| B("x")\n  A -->|no| C("y")') == []
    assert any("1 way(s)" in p for p in decide.flowchart_problems('graph TD\n  A{"Q?"} -->|yes| B("x")'))
    assert any("unlabelled" in p for p in
               decide.flowchart_problems('graph TD\n  A{"Q?"} --> B("x")\n  A -->|no| C("y")'))
    with pytest.raises(ValueError, match="cannot read"):
        decide.parse_chart("graph TD\n  A ==> B")


def test_the_notebook_shows_the_charts_of_the_module():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    blocks = [b.strip() for c in cells if c["cell_type"] == "markdown"
              for b in re.findall(r"```mermaid\n(.*?)```", "".join(c["source"]), re.S)]
    assert decide.ARTICLE_CHART.strip() in blocks
    assert decide.FIXED_CHART.strip() in blocks

"""The scorecard of notebook 08: one row per claim, the learner's verdicts, what to run (no broker)."""

import matplotlib

matplotlib.use("Agg")

from brokerlab.course import claims, scorecard


def test_fresh_machine_every_claim_says_what_to_run():
    table = scorecard.rows({})
    assert [r.claim.id for r in table] == [c.id for c in claims.CLAIMS]
    assert all(r.verdict == scorecard.NOT_MEASURED for r in table)
    for row in table:
        assert row.claim.tested_in in row.to_run
        assert scorecard.run_command(row.claim.tested_in) in row.to_run
        assert row.to_run.startswith("open ")
    assert scorecard.counts(table)[scorecard.NOT_MEASURED] == len(claims.CLAIMS)


def test_rows_read_the_progress_folder_by_default():
    claims.record("ordering", "half-true", "measured", {"kafka_per_key_in_order": True})
    claims.record("protocols", "confirmed", "measured", {"mqtt": "arrived"})
    table = scorecard.rows()  # claims.results() of the private progress dir (conftest)
    by_id = {r.claim.id: r for r in table}
    assert by_id["ordering"].verdict == "half-true" and by_id["ordering"].to_run is None
    assert by_id["protocols"].result.evidence == {"mqtt": "arrived"}
    assert by_id["latency"].verdict == scorecard.NOT_MEASURED
    numbers = scorecard.counts(table)
    assert list(numbers) == list(scorecard.STATES)
    assert numbers["half-true"] == 1 and numbers["confirmed"] == 1
    assert sum(numbers.values()) == len(claims.CLAIMS)


def test_still_to_run_groups_missing_claims_by_notebook():
    claims.record("throughput", "depends", "x", {})
    todo = scorecard.still_to_run(scorecard.rows())
    assert todo["notebooks/06_throughput_benchmarks.ipynb"] == ["scale"]
    assert "notebooks/01_two_architectures.ipynb" in todo
    listed = sorted(i for ids in todo.values() for i in ids)
    assert listed == sorted(c.id for c in claims.CLAIMS if c.id != "throughput")
    assert scorecard.still_to_run(scorecard.rows({c.id: _result(c.id) for c in claims.CLAIMS})) == {}


def _result(claim_id, verdict="confirmed", summary="ok", evidence=None):
    return claims.Result(claim_id, verdict, summary, evidence or {"n": 1}, 1_700_000_000.0)


def test_html_round_trip_shows_exactly_the_stored_verdicts():
    results = {"push-vs-pull": _result("push-vs-pull", "confirmed"),
               "latency": _result("latency", "depends"),
               "scale": _result("scale", "refuted")}
    html = scorecard.to_html(scorecard.rows(results))
    shown = scorecard.rendered_verdicts(html)
    assert [i for i, _ in shown] == [c.id for c in claims.CLAIMS]
    for claim_id, verdict in shown:
        assert verdict == (results[claim_id].verdict if claim_id in results else scorecard.NOT_MEASURED)
    assert scorecard.COLOURS["refuted"] in html and scorecard.COLOURS[scorecard.NOT_MEASURED] in html
    assert "notebooks/02_kafka_walkthrough.ipynb" in html  # what to run for a missing claim


def test_html_escapes_recorded_text_and_limits_evidence():
    evil = _result("ordering", "half-true", "<script>alert(1)</script>",
                   {f"k{i}": f"<b>{i}</b>" for i in range(7)})
    html = scorecard.to_html(scorecard.rows({"ordering": evil}), evidence_items=3)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;0&lt;/b&gt;" in html and "k3" not in html and "and 4 more" in html


def test_text_and_plot():
    table = scorecard.rows({"ordering": _result("ordering", "half-true", "per key only")})
    text = scorecard.to_text(table)
    assert len(text.splitlines()) == len(claims.CLAIMS)
    assert "HALF-TRUE" in text and "per key only" in text and "NOT MEASURED" in text
    ax = scorecard.plot_counts(table)
    widths = {bar.get_y(): bar.get_width() for bar in ax.patches}
    assert sorted(widths.values()) == sorted(scorecard.counts(table).values())
    assert str(len(claims.CLAIMS)) in ax.get_title()

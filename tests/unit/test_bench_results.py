"""The JSON result record: median and range, schema validation, save and load."""

import json

import pytest

from brokerlab.bench import results
from brokerlab.bench.results import ConfigResult, Experiment, spread, summarize_runs


def run(rate, bound="waiting"):
    return {"msgs_per_s": rate, "MiB_per_s": rate / 1024, "cpu": {"bound": bound, "processes": []},
            "bound": bound}


def experiment() -> Experiment:
    exp = Experiment("E9", "test", {"name": "quick"}, {"cpu_count": 2}, {"fsync": {"p50_ms": 1}},
                     {"kafka": "4.1.1"})
    cfg = ConfigResult("kafka D1", "kafka", "python", {"size": 1024},
                       runs=[run(300.0, "client-bound"), run(100.0), run(200.0, "broker-bound")])
    exp.configs.append(summarize_runs(cfg, ("msgs_per_s", "MiB_per_s")))
    return exp.finish()


def test_spread_median_and_range():
    assert spread([3, 1, 2]) == {"median": 2, "min": 1, "max": 3, "n": 3}
    assert spread([1, None, float("nan"), 5]) == {"median": 3, "min": 1, "max": 5, "n": 2}
    assert spread([]) == {"median": None, "min": None, "max": None, "n": 0}


def test_summary_takes_the_median_runs_cpu_verdict():
    cfg = experiment().configs[0]
    assert cfg.summary["msgs_per_s"] == {"median": 200.0, "min": 100.0, "max": 300.0, "n": 3}
    assert cfg.bound == "broker-bound"  # the run whose rate is the median
    assert cfg.median() == 200.0 and cfg.median("MiB_per_s") == pytest.approx(200 / 1024)


def test_a_complete_record_validates_and_survives_json(tmp_path):
    exp = experiment()
    doc = exp.to_dict()
    assert results.validate(doc) == []
    assert doc["schema"] == results.SCHEMA and doc["finished_at"] >= doc["started_at"]
    path = exp.save(tmp_path / "sub" / "e9.json")
    assert results.load(path) == json.loads(json.dumps(doc))


def test_validation_names_each_problem():
    doc = experiment().to_dict()
    del doc["machine"]
    doc["schema"] = "other/2"
    doc["configs"][0]["summary"]["msgs_per_s"]["median"] = 999.0
    del doc["configs"][0]["bound"]
    problems = results.validate(doc)
    assert "missing key 'machine'" in problems
    assert any("schema" in p for p in problems)
    assert any("median outside its range" in p for p in problems)
    assert any("missing 'bound'" in p for p in problems)


def test_load_rejects_an_invalid_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"schema": results.SCHEMA}))
    with pytest.raises(ValueError, match="not a valid benchmark result"):
        results.load(path)


def test_find_by_label():
    exp = experiment()
    assert exp.find("kafka D1").client == "python"
    with pytest.raises(KeyError, match="kafka D1"):
        exp.find("nope")

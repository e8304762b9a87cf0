"""The PerfTest manifest and jar cache, the `brokerlab bench` command line, the re-run panel's
validation — none of them needs a broker."""

import pytest

from brokerlab import cli
from brokerlab.bench import jars, mode
from brokerlab.bench.experiments import Bench
from brokerlab.bench.widgets import RerunPanel
from brokerlab.brokers import maven
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints

EP = Endpoints("127.0.0.1:9", "amqp://guest:guest@127.0.0.1:9/%2F", "http://127.0.0.1:9", "default")


def test_perftest_manifest_pins_a_version_that_resolves():
    assert maven.PERFTEST.version() == "2.22.1"
    assert maven.PERFTEST.pom().name == "pom.xml"
    assert "com.rabbitmq" in maven.PERFTEST.pom().read_text()


def test_jar_cache_layout(tmp_path):
    target = maven.PERFTEST.jar_dir(tmp_path)
    assert target == tmp_path / "perftest-2.22.1"
    assert not maven.PERFTEST.cached(tmp_path)
    target.mkdir()
    (target / ".complete").write_text("2.22.1")
    assert maven.PERFTEST.cached(tmp_path)
    assert maven.PERFTEST.ensure(tmp_path) == target  # cached: no Maven, no network


def test_missing_maven_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(maven.shutil, "which", lambda _name: None)
    with pytest.raises(BrokerlabError, match="Maven"):
        maven.PERFTEST.ensure(tmp_path)


def test_java_command_uses_the_whole_jar_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(jars.kafka_native, "java_executable", lambda: "/usr/bin/java")
    cmd = jars.java_command(tmp_path, jars.PERFTEST_MAIN, "-z", "1")
    assert cmd[0] == "/usr/bin/java" and cmd[cmd.index("-cp") + 1] == f"{tmp_path}/*"
    assert cmd[-3:] == [jars.PERFTEST_MAIN, "-z", "1"]


def test_bench_subcommands_are_registered():
    parser = cli.build_parser()
    args = parser.parse_args(["bench", "calibrate", "--json", "--quick"])
    assert args.json and args.quick and args.func.__name__ == "cmd_calibrate"
    args = parser.parse_args(["bench", "run", "E1", "e4", "--size", "100"])
    assert args.experiments == ["E1", "e4"] and args.size == 100
    assert parser.parse_args(["bench", "machine"]).func.__name__ == "cmd_machine"
    assert parser.parse_args(["bench", "fetch"]).func.__name__ == "cmd_fetch"


def test_unknown_experiment_is_refused_before_anything_runs(capsys):
    assert cli.main(["bench", "run", "E9", "--quick"]) == 2
    assert "unknown experiment" in capsys.readouterr().err


def panel(**kwargs) -> tuple[RerunPanel, list]:
    got: list = []
    return RerunPanel(Bench(mode=mode.QUICK, ep=EP), got.append, **kwargs), got


@pytest.mark.parametrize(("values", "message"), [
    ({"size": 10}, "message size"),
    ({"rate": -5}, "rate must be 0"),
    ({"window": 0}, "confirm window"),
    ({"system": "rabbitmq", "rung": "D0", "queue_type": "stream"}, "stream consumers must acknowledge"),
])
def test_panel_rejects_bad_values_without_running(values, message):
    p, got = panel()
    assert p.set(**values).run() is None
    assert message in p.last_error and "Not run" in p.message.value
    assert got == [] and p.results == [] and p.progress.value == 0


def test_latency_panel_needs_a_rate():
    p, _ = panel(latency=True)
    assert p.set(rate=0).run() is None and "positive rate" in p.last_error
    assert p.set(rate=700).workload().rate == 700


def test_panel_builds_the_workload_it_shows():
    p, _ = panel()
    w = p.set(system="kafka", rung="D2", acks="1", linger=20, size=512).workload()
    assert (w.acks, w.linger_ms, w.size, w.flush_messages, w.rate) == ("1", 20, 512, 1, None)
    w = p.set(system="rabbitmq", rung="D1", queue_type="stream", prefetch=50).workload()
    assert w.queue_type == "stream" and w.prefetch == 50

"""Parsers of the native tools' output, on output captured from real runs on the course's brokers
(tests/unit/data/bench/*.txt: ProducerPerformance and ConsumerPerformance of Kafka 4.1.1,
PerfTest 2.22.1 against RabbitMQ 3.10.8, in its default and its compact format)."""

from pathlib import Path

import pytest

from brokerlab.bench import native
from brokerlab.bench.workload import ladder
from brokerlab.settings import Endpoints

DATA = Path(__file__).parent / "data" / "bench"


def sample(name: str) -> str:
    return (DATA / name).read_text()


def test_producer_performance_summary_line():
    got = native.parse_producer_performance(sample("producer_performance.txt"))
    assert got["records"] == 50000
    assert got["msgs_per_s"] == 34891.8 and got["MiB_per_s"] == 34.07
    assert (got["avg_ms"], got["max_ms"]) == (158.66, 447.0)
    assert (got["p50_ms"], got["p95_ms"], got["p99_ms"], got["p999_ms"]) == (134, 311, 315, 318)
    # A short run prints no 5-second windows: the whole-run rate is all there is.
    assert got["window_rates"] == [] and got["steady_msgs_per_s"] == got["msgs_per_s"]


def test_producer_performance_windows_drop_the_first():
    text = sample("producer_performance_windows.txt")
    got = native.parse_producer_performance(text)
    assert got["window_rates"] == [16536.1, 32039.2]  # the first 5-s window includes JIT warm-up
    assert got["steady_msgs_per_s"] == 32039.2
    assert got["msgs_per_s"] == 27631.9 and got["records"] == 300000 and got["p999_ms"] == 758


def test_consumer_performance_row():
    got = native.parse_consumer_performance(sample("consumer_performance.txt"))
    assert got["data.consumed.in.nMsg"] == 50000
    assert got["nMsg.sec"] == pytest.approx(50352.4673)
    assert got["msgs_per_s"] == got["fetch.nMsg.sec"] == pytest.approx(90252.7076)
    assert got["start.time"] == "2026-11-26 15:03:32:493"


def test_perftest_default_format_with_confirms():
    got = native.parse_perftest(sample("perftest_classic.txt"))
    assert [s["confirmed"] for s in got["samples"]] == [9109, 9838, 8640]
    assert got["rate_basis"] == "confirmed"
    assert got["steady_msgs_per_s"] == pytest.approx((9838 + 8640) / 2)  # first second dropped
    assert got["steady_received_per_s"] == pytest.approx((9837 + 8640) / 2)
    assert got["sending_rate_avg"] == 9043 and got["receiving_rate_avg"] == 9043
    assert got["confirm_latency_ms"] == {"min": 0.35, "p50": 4.966, "p75": 6.915, "p95": 12.211,
                                         "p99": 22.872}
    assert got["consumer_latency_ms"]["p99"] == pytest.approx(47.802)


def test_perftest_compact_format_quorum():
    got = native.parse_perftest(sample("perftest_quorum_compact.txt"))
    assert got["samples"] == [
        {"t": 1.001, "sent": 1194, "confirmed": 1195, "nacked": 0, "received": 1159},
        {"t": 2.009, "sent": 1601, "confirmed": 1599, "nacked": 0, "received": 1604}]
    assert got["steady_msgs_per_s"] == 1599 and got["sending_rate_avg"] == 1386


@pytest.mark.parametrize("name", ["perftest_noconfirm.txt", "perftest_noconfirm_compact.txt"])
def test_perftest_without_confirms_uses_the_sent_rate(name):
    got = native.parse_perftest(sample(name))
    assert got["rate_basis"] == "sent"
    assert got["steady_msgs_per_s"] == got["samples"][-1]["sent"]
    assert "confirm_latency_ms" not in got and "consumer_latency_ms" in got


@pytest.mark.parametrize("parse", [native.parse_producer_performance, native.parse_consumer_performance,
                                   native.parse_perftest])
def test_unrelated_output_is_an_error(parse):
    with pytest.raises(ValueError, match="found"):
        parse("Exception in thread main java.net.ConnectException: Connection refused\n")


EP = Endpoints("127.0.0.1:9092", "amqp://guest:guest@127.0.0.1:5672/%2F", "http://127.0.0.1:15672", "default")


def flags(args: list[str]) -> str:
    assert not any("guest" in a or "amqp" in a for a in args), "the URL and its password stay out of argv"
    return " ".join(args)


def test_perftest_arguments_follow_the_ladder():
    d0 = flags(native.perftest_arguments(EP, "q", 5, ladder("rabbitmq", "D0").as_dict()))
    d1 = flags(native.perftest_arguments(EP, "q", 5, ladder("rabbitmq", "D1").as_dict()))
    d2 = flags(native.perftest_arguments(EP, "q", 5, ladder("rabbitmq", "D2").as_dict()))
    assert "-a" in d0.split() and "-c" not in d0.split() and "persistent" not in d0
    assert "-c 100 -f persistent" in d1 and "-q 100" in d1 and "-qq" not in d1
    assert "-qq" in d2.split() and "-c 100" in d2
    assert "-u q -ad false" in d1 and "-z 5" in d1 and "-s 1024" in d1
    each = flags(native.perftest_arguments(EP, "q", 5, ladder("rabbitmq", "D1", publish_mode="each-confirm",
                                                              rate=500, consumer=False).as_dict()))
    assert "-c 1" in each and "-r 500" in each and "-y 0" in each

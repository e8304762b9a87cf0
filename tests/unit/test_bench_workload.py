"""Workloads: the durability ladder, validation messages, modes."""

import pytest

from brokerlab.bench import mode
from brokerlab.bench.workload import Workload, ladder
from brokerlab.errors import BrokerlabError


def test_the_ladder_on_kafka():
    assert ladder("kafka", "D0").acks == "0"
    assert ladder("kafka", "D1").acks == "all" and ladder("kafka", "D1").flush_messages is None
    d2 = ladder("kafka", "D2")
    assert d2.acks == "all" and d2.flush_messages == 1 and "flush.messages=1" in d2.label


def test_the_ladder_on_rabbitmq():
    d0, d1, d2 = (ladder("rabbitmq", r) for r in ("D0", "D1", "D2"))
    assert (d0.durable, d0.persistent, d0.publish_mode, d0.auto_ack) == (False, False, "no-confirms", True)
    assert (d1.queue_type, d1.durable, d1.persistent, d1.publish_mode) == ("classic", True, True, "pipelined")
    assert d2.queue_type == "quorum" and d2.publish_mode == "pipelined"


def test_overrides_win_and_are_validated():
    w = ladder("rabbitmq", "D1", confirm_window=7, size=4096, rate=300)
    assert (w.confirm_window, w.size, w.rate) == (7, 4096, 300)
    assert "300/s" in w.label and "window=7" in w.label
    assert w.with_(prefetch=5).prefetch == 5


@pytest.mark.parametrize(("changes", "message"), [
    ({"size": 10}, "message size must be 24 B"),
    ({"rate": 0}, "rate must be 1"),
    ({"acks": "2"}, "acks must be one of"),
    ({"linger_ms": -1}, "linger.ms must be 0 to 1000"),
    ({"confirm_window": 0}, "confirm window must be 1"),
    ({"queue_type": "mirrored"}, "queue type must be one of"),
    ({"queue_type": "stream", "auto_ack": True}, "stream consumers must acknowledge"),
    ({"queue_type": "quorum", "durable": False}, "quorum queues are always durable"),
])
def test_invalid_settings_say_what_is_wrong(changes, message):
    with pytest.raises(ValueError, match=message):
        Workload("rabbitmq").with_(**changes)


def test_several_problems_are_reported_together():
    with pytest.raises(ValueError) as info:
        Workload("kafka", size=1, prefetch=-1).validate()
    assert "message size" in str(info.value) and "prefetch" in str(info.value)


def test_mode_from_the_environment(monkeypatch):
    monkeypatch.delenv(mode.ENV, raising=False)
    assert mode.current() is mode.FULL
    monkeypatch.setenv(mode.ENV, "quick")
    assert mode.current() is mode.QUICK
    assert mode.current("full") is mode.FULL
    monkeypatch.setenv(mode.ENV, "turbo")
    with pytest.raises(BrokerlabError, match="turbo"):
        mode.current()


def test_quick_is_shorter_with_the_same_number_of_runs():
    assert mode.QUICK.runs == mode.FULL.runs >= 3
    assert mode.QUICK.duration_s < mode.FULL.duration_s and mode.QUICK.warmup_s > 0
    assert mode.QUICK.with_(runs=5).runs == 5


def test_quick_sweeps_are_fewer_points_of_the_full_ones():
    for sweep in ("lingers", "windows", "prefetches"):
        quick, full = getattr(mode.QUICK, sweep), getattr(mode.FULL, sweep)
        assert 2 <= len(quick) < len(full) and set(quick) <= set(full), sweep
    # The "one round trip per message" end of each RabbitMQ sweep is what E3 and E5 explain.
    assert mode.QUICK.windows[0] == mode.QUICK.prefetches[0] == 1


def test_consumer_only_labels_name_what_the_consumer_does():
    """E5's table shows one row per consumer setting: the labels must tell them apart."""
    rabbit = [ladder("rabbitmq", "D1", prefetch=p) for p in (1, 100)]
    rabbit.append(ladder("rabbitmq", "D1", auto_ack=True, prefetch=0))
    kafka = [ladder("kafka", "D1", consume_mode=m) for m in ("one", "batch")]
    labels = [w.consumer_label for w in rabbit + kafka]
    assert len(set(labels)) == len(labels), labels
    assert "prefetch=1 " in labels[0] and "auto-ack" in labels[2]
    assert "poll() one" in labels[3] and "consume(500)" in labels[4]

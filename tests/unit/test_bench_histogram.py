"""Latency recording: coordinated-omission correction, percentiles, transport between processes."""

import math

import pytest

from brokerlab.bench import histogram, payload
from brokerlab.bench.histogram import LatencyRecorder, open_loop_schedule, summarize

MS = 1_000_000


def simulate(stall_at: int, stall_ns: int, window: int, n: int = 2000, interval_ns: int = MS,
             service_ns: int = 100_000) -> LatencyRecorder:
    """An open-loop schedule (one message per ms) served by a system that needs 0.1 ms each and
    freezes once for ``stall_ns``. The sender may have ``window`` messages unanswered: when the
    window is full it waits, and sends late. Returns what the receiver would record."""
    rec = LatencyRecorder()
    done: list[int] = []  # completion times of sent messages, in order
    server_free = 0
    for i, intended in enumerate(open_loop_schedule(0, 1e9 / interval_ns, n)):
        actual = intended
        if len(done) >= window:  # blocked until the oldest unanswered one completes
            actual = max(actual, done[-window])
        start = max(actual, server_free)
        if i == stall_at:
            start += stall_ns
        server_free = start + service_ns
        done.append(server_free)
        rec.record(server_free, intended, actual)
    return rec


def test_a_blocked_sender_hides_the_stall_from_the_naive_figure():
    rec = simulate(stall_at=1000, stall_ns=200 * MS, window=1)
    s = rec.summary()
    # About 200 messages were due during the 200 ms stall: 10 % of 2000 → the p99 sees it.
    assert s["corrected"]["p99_ms"] >= 100
    # The naive figure only sees the single message that was in flight.
    assert s["naive"]["p99_ms"] < 1
    assert s["naive"]["max_ms"] == pytest.approx(200.1, rel=0.01)
    assert s["corrected"]["count"] == s["naive"]["count"] == 2000


def test_a_sender_that_never_blocks_shows_the_stall_in_both():
    rec = simulate(stall_at=1000, stall_ns=200 * MS, window=10_000)
    s = rec.summary()
    assert s["naive"]["p99_ms"] == pytest.approx(s["corrected"]["p99_ms"], rel=0.01)
    assert s["naive"]["p99_ms"] >= 100


@pytest.mark.parametrize("window", [1, 10, 10_000])
def test_corrected_is_never_below_naive(window):
    s = simulate(stall_at=500, stall_ns=50 * MS, window=window).summary()
    for pct in ("p50_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"):
        assert s["corrected"][pct] >= s["naive"][pct]


def test_encode_decode_and_merge_keep_every_sample():
    a = simulate(stall_at=10, stall_ns=5 * MS, window=1, n=300)
    b = LatencyRecorder.decode(a.encode())
    assert b.summary() == a.summary()
    b.merge(a)
    assert b.count == 600 and b.summary()["corrected"]["p99_ms"] == a.summary()["corrected"]["p99_ms"]


def test_values_outside_the_range_are_clamped_not_lost():
    rec = LatencyRecorder()
    rec.record(now_ns=10, intended_ns=10, actual_ns=10)  # 0 ns → 1 µs, the lowest value
    rec.record(now_ns=10**12, intended_ns=0, actual_ns=0)  # 1000 s → the 120 s ceiling
    s = summarize(rec.corrected)
    assert s.count == 2
    assert s.max_ms == pytest.approx(histogram.HIGHEST_US / 1000, rel=0.001)


def test_p999_needs_ten_thousand_samples():
    rec = LatencyRecorder()
    for i in range(9_999):
        rec.record(i + 5000, i, i)
    assert not summarize(rec.corrected).p999_reliable
    rec.record(5000, 0, 0)
    assert summarize(rec.corrected).p999_reliable


def test_empty_histogram_summary():
    s = summarize(histogram.new_histogram())
    assert s.count == 0 and math.isnan(s.p99_ms)


def test_open_loop_schedule_is_evenly_spaced():
    times = open_loop_schedule(1_000, 3, 4)
    assert times == [1_000, 1_000 + 333_333_333, 1_000 + 666_666_667, 1_000 + 1_000_000_000]
    with pytest.raises(ValueError):
        open_loop_schedule(0, 0, 1)


def test_payload_header_round_trip_and_size():
    pad = payload.filler(1024)
    body = payload.body(pad, 7, 123, 456)
    assert len(body) == 1024 and body.endswith(pad)
    assert payload.stamp(body) == payload.Stamp(7, 123, 456)
    assert payload.stamp(payload.body(pad, payload.SENTINEL, 0, 0)).seq == payload.SENTINEL
    with pytest.raises(ValueError, match="at least 24"):
        payload.filler(10)
    with pytest.raises(ValueError, match="header"):
        payload.stamp(b"short")

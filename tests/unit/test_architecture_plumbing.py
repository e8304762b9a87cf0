"""Plumbing of notebook 01 that needs no broker: log-dir helpers and measured sequence diagrams."""

from __future__ import annotations

from pathlib import Path

import pytest

from brokerlab.errors import BrokerlabError
from brokerlab.observe import logdir, timeline


@pytest.mark.parametrize(("text", "expected"), [
    ("", 0), ("a", 97), ("hello", 99162322),
    ("polygenelubricants", -(1 << 31)),  # Java's famous Integer.MIN_VALUE hash
    ("é😀", 1996812),  # a non-BMP character is two UTF-16 code units, as in Java
])
def test_java_string_hash_matches_java(text: str, expected: int) -> None:
    assert logdir.java_string_hash(text) == expected


def test_offsets_partition_uses_kafkas_abs() -> None:
    # Utils.abs: a negative hash maps to its absolute value (not the sign-masked value) ...
    h = logdir.java_string_hash("probe-0f1b2c")
    assert logdir.offsets_partition("probe-0f1b2c") == abs(h) % 50
    # ... and Integer.MIN_VALUE to 0.
    assert logdir.offsets_partition("polygenelubricants") == 0
    assert all(0 <= logdir.offsets_partition(f"group-{i}") < 50 for i in range(200))


def test_files_and_table(tmp_path: Path) -> None:
    (tmp_path / "00000000000000000000.log").write_bytes(b"x" * 1234)
    (tmp_path / "00000000000000000000.index").write_bytes(b"")
    before = logdir.files(tmp_path)
    (tmp_path / "00000000000000000042.log").write_bytes(b"y" * 10)
    after = logdir.files(tmp_path)
    assert logdir.segment_bytes(before) == 1234 and logdir.segment_bytes(after) == 1244
    text = logdir.table({"before": before, "after": after})
    row = next(line for line in text.splitlines() if line.startswith("00000000000000000042.log"))
    assert row.split()[1:3] == ["-", "10"]  # absent before, 10 bytes after
    assert "records (a segment)" in row
    assert text.splitlines()[-1].split()[-5:-3] == ["1,234", "1,244"]


def test_partition_dir_is_none_for_brokers_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example.org:9092")
    assert logdir.log_dirs() is None
    assert logdir.partition_dir("orders", 0) is None


def test_trace_rows_and_mermaid_are_in_time_order() -> None:
    trace = timeline.Trace("One message", ["Producer", "Broker", "Consumer"], zero=100.0)
    trace.step("Broker", "Producer", "ack", 100.003, reply=True)
    trace.step("Producer", "Broker", "send", 100.0)
    trace.note("Broker", "stored #1; a <tag>", 100.001)
    trace.step("Consumer", "Broker", "fetch", 99.9)
    rows = trace.rows()
    assert [round(ms, 1) for ms, _ in rows] == [-100.0, 0.0, 1.0, 3.0]
    assert rows[0][1] == "Consumer → Broker: fetch" and rows[2][1] == "[Broker] stored #1; a <tag>"
    source = trace.mermaid()
    assert source.startswith('---\ntitle: "One message"\n---\nsequenceDiagram')
    body = source.split("sequenceDiagram", 1)[1]
    assert body.index("-100.0 ms fetch") < body.index("+0.0 ms send") < body.index("+3.0 ms ack")
    assert "broker-->>producer: +3.0 ms ack" in body  # a reply is a dotted arrow
    assert "#lt;tag#gt;" in body and "<tag>" not in body  # labels are escaped for Mermaid


def test_trace_rejects_unknown_participants() -> None:
    trace = timeline.Trace("t", ["A", "B"])
    with pytest.raises(BrokerlabError, match="not a participant"):
        trace.step("A", "C", "hello", 1.0)
    assert trace.rows() == []
    with pytest.raises(BrokerlabError, match="no steps"):
        _ = trace.start

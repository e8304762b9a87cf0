"""Where a Kafka partition's bytes live: the files of the native broker's partition directories.

Plumbing for lessons that look at the log on disk. Only the native backend (``brokerlab up``)
runs Kafka on this machine, so only there are the files visible; with any other backend
:func:`partition_dir` returns ``None`` and a lesson falls back to what every client can ask for
(``Consumer.get_watermark_offsets``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from brokerlab.settings import endpoints
from brokerlab.waiting import wait_for

OFFSETS_TOPIC = "__consumer_offsets"
OFFSETS_PARTITIONS = 50  # the broker default (offsets.topic.num.partitions); the course never changes it


def log_dirs() -> list[Path] | None:
    """The Kafka data directories of the course's native single broker, or ``None`` when the
    brokers in use are not the native ones (environment variables, Docker, a shared cluster)."""
    if endpoints().source != "native":
        return None
    from brokerlab.brokers import native

    return [node.data for node in native.single().kafka]


def partition_dir(topic: str, partition: int = 0, timeout: float = 10.0) -> Path | None:
    """The directory ``<log dir>/<topic>-<partition>`` of the native broker (``None`` when the
    brokers are not native). The broker creates it a moment after ``create_topics`` returns, so
    this waits for it (at most ``timeout`` seconds)."""
    dirs = log_dirs()
    if dirs is None:
        return None
    candidates = [root / f"{topic}-{partition}" for root in dirs]
    return wait_for(
        lambda: next((c for c in candidates if c.is_dir()), None), timeout, 0.05,
        problem=f"No directory {topic}-{partition} under {', '.join(map(str, dirs))} after "
                f"{timeout:.0f} s.",
        fix="Does the topic exist (admin.list_topics())? Is `brokerlab status` showing the "
            "native brokers this notebook uses?")


@dataclass(frozen=True)
class LogFile:
    """One file of a partition directory: its name and its size in bytes (as ``ls -l`` shows it)."""

    name: str
    size: int

    @property
    def kind(self) -> str:
        """What the file is for, by its extension."""
        suffix = Path(self.name).suffix
        return {".log": "records (a segment)", ".index": "offset → position index",
                ".timeindex": "timestamp → offset index", ".snapshot": "producer state snapshot",
                ".deleted": "segment waiting for deletion"}.get(suffix, "partition metadata")


def files(path: Path) -> dict[str, LogFile]:
    """The files of a partition directory, by name (a moment's snapshot)."""
    found: dict[str, LogFile] = {}
    for entry in sorted(path.iterdir()):
        try:
            if entry.is_file():
                found[entry.name] = LogFile(entry.name, entry.stat().st_size)
        except FileNotFoundError:  # the broker renamed or deleted it while we looked
            continue
    return found


def segment_bytes(snapshot: dict[str, LogFile]) -> int:
    """Total size of the ``.log`` segment files (the records themselves) in a snapshot."""
    return sum(f.size for f in snapshot.values() if f.name.endswith(".log"))


def table(snapshots: dict[str, dict[str, LogFile]]) -> str:
    """A text table: one row per file, one size column per named snapshot (``-`` = absent)."""
    names = sorted({name for snap in snapshots.values() for name in snap})
    headers = list(snapshots)
    width = max([len("file"), *map(len, names)])
    cols = [max(len(h), 12) for h in headers]
    lines = ["  ".join([f"{'file':<{width}}", *(f"{h:>{c}}" for h, c in zip(headers, cols, strict=True)),
                        "what it is"])]
    for name in names:
        sizes = [snap[name].size if name in snap else None for snap in snapshots.values()]
        kind = next(snap[name].kind for snap in snapshots.values() if name in snap)
        cells = [f"{'-' if s is None else f'{s:,}':>{c}}" for s, c in zip(sizes, cols, strict=True)]
        lines.append("  ".join([f"{name:<{width}}", *cells, kind]))
    totals = [f"{segment_bytes(snap):>{c},}" for snap, c in zip(snapshots.values(), cols, strict=True)]
    lines.append("  ".join([f"{'all .log files':<{width}}", *totals, "bytes of records"]))
    return "\n".join(lines)


def java_string_hash(text: str) -> int:
    """Java's ``String.hashCode()`` (the broker is written in Java and hashes group ids with it)."""
    data = text.encode("utf-16-be")  # Java strings are UTF-16 code units
    h = 0
    for i in range(0, len(data), 2):
        h = (31 * h + int.from_bytes(data[i:i + 2], "big")) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def offsets_partition(group: str, partitions: int = OFFSETS_PARTITIONS) -> int:
    """The ``__consumer_offsets`` partition that stores ``group``'s commits:
    ``abs(hashCode(group)) % partitions``, with Kafka's own ``abs`` (``Utils.abs``: the absolute
    value, and 0 for Integer.MIN_VALUE, whose absolute value does not fit in an int)."""
    h = java_string_hash(group)
    return (0 if h == -(1 << 31) else abs(h)) % partitions

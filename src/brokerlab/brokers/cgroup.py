"""The memory limit of the container (cgroup) this process runs in: v2 ``memory.max``, v1
``memory.limit_in_bytes``. The host's RAM (psutil) says nothing about a 2 GB Binder pod."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

UNLIMITED_V1 = 2**60  # v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX × page size)


@dataclass(frozen=True)
class MemoryLimit:
    """A cgroup's memory limit and what it uses now (bytes, page cache that can be dropped excluded)."""

    limit: int
    usage: int
    version: int  # 1 or 2
    path: Path  # the file the limit was read from

    @property
    def available(self) -> int:
        return max(0, self.limit - self.usage)


def memory_limit(fs: Path = Path("/sys/fs/cgroup"),
                 proc: Path = Path("/proc/self/cgroup")) -> MemoryLimit | None:
    """The tightest memory limit on this process's cgroup and its ancestors, or None when none is set.

    ``fs`` is where cgroups are mounted and ``proc`` this process's membership file; tests pass a
    fake tree of both."""
    try:
        lines = proc.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2: "0::/path"
            found = _tightest(fs, path, "memory.max")
            if found:
                return MemoryLimit(found[0], _usage_v2(found[1].parent), 2, found[1])
        elif "memory" in controllers.split(","):  # v1: "4:memory:/path"
            found = _tightest(fs / "memory", path, "memory.limit_in_bytes")
            if found:
                return MemoryLimit(found[0], _usage_v1(found[1].parent), 1, found[1])
    return None


def _tightest(root: Path, path: str, name: str) -> tuple[int, Path] | None:
    """The smallest limit in ``name`` from the cgroup at ``path`` up to ``root``. Inside a container
    the cgroup namespace makes the own cgroup the root, so ``root`` itself is read too."""
    best: tuple[int, Path] | None = None
    directory = root / path.strip("/")
    for candidate in (directory, *directory.parents):
        limit = _read_limit(candidate / name)
        if limit is not None and (best is None or limit < best[0]):
            best = (limit, candidate / name)
        if candidate == root:
            break
    return best


def _read_limit(file: Path) -> int | None:
    try:
        text = file.read_text().strip()
    except OSError:
        return None
    if text == "max" or not text.isdigit() or int(text) >= UNLIMITED_V1:
        return None
    return int(text)


def _read_int(file: Path) -> int:
    try:
        return int(file.read_text().strip())
    except (OSError, ValueError):
        return 0


def _stat(file: Path, key: str) -> int:
    try:
        for line in file.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _usage_v2(directory: Path) -> int:
    usage = _read_int(directory / "memory.current")
    return max(0, usage - _stat(directory / "memory.stat", "inactive_file"))


def _usage_v1(directory: Path) -> int:
    usage = _read_int(directory / "memory.usage_in_bytes")
    return max(0, usage - _stat(directory / "memory.stat", "total_inactive_file"))

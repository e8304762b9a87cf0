"""`brokerlab doctor` sees a container's memory limit (cgroup v2 and v1), from fake cgroup trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from brokerlab.brokers import cgroup, doctor

GIB = 2**30


def v2_tree(tmp_path: Path, limits: dict[str, str], current: int = 0, inactive_file: int = 0,
            membership: str = "/user.slice/pod") -> tuple[Path, Path]:
    fs = tmp_path / "cgroup"
    for path, value in limits.items():
        (fs / path).mkdir(parents=True, exist_ok=True)
        (fs / path / "memory.max").write_text(value + "\n")
        (fs / path / "memory.current").write_text(f"{current}\n")
        (fs / path / "memory.stat").write_text(f"anon 1\ninactive_file {inactive_file}\nactive_file 5\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(f"0::{membership}\n")
    return fs, proc


def v1_tree(tmp_path: Path, limit: int, usage: int = 0, membership: str = "/docker/abc") -> tuple[Path, Path]:
    fs = tmp_path / "cgroup"
    directory = fs / "memory" / membership.strip("/")
    directory.mkdir(parents=True)
    (directory / "memory.limit_in_bytes").write_text(f"{limit}\n")
    (directory / "memory.usage_in_bytes").write_text(f"{usage}\n")
    (directory / "memory.stat").write_text("cache 10\ntotal_inactive_file 0\n")
    (fs / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # the root: no limit
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(f"12:pids:/docker/abc\n4:memory:{membership}\n1:name=systemd:/docker/abc\n")
    return fs, proc


def test_v2_limit_of_a_2_gib_pod(tmp_path: Path) -> None:
    fs, proc = v2_tree(tmp_path, {"user.slice/pod": str(2 * GIB)}, current=GIB, inactive_file=GIB // 4)
    found = cgroup.memory_limit(fs, proc)
    assert found is not None and found.version == 2 and found.limit == 2 * GIB
    assert found.path == fs / "user.slice" / "pod" / "memory.max"
    assert found.available == 2 * GIB - (GIB - GIB // 4)  # page cache that can be dropped is free


def test_v2_tightest_ancestor_wins_and_max_means_none(tmp_path: Path) -> None:
    fs, proc = v2_tree(tmp_path, {"user.slice": str(GIB), "user.slice/pod": "max"})
    assert cgroup.memory_limit(fs, proc).limit == GIB  # type: ignore[union-attr]
    fs, proc = v2_tree(tmp_path / "b", {"user.slice/pod": "max"})
    assert cgroup.memory_limit(fs, proc) is None


def test_v2_inside_a_cgroup_namespace_reads_the_root(tmp_path: Path) -> None:
    fs, proc = v2_tree(tmp_path, {"": str(2 * GIB)}, membership="/")
    assert cgroup.memory_limit(fs, proc).limit == 2 * GIB  # type: ignore[union-attr]


def test_v1_limit_and_its_no_limit_value(tmp_path: Path) -> None:
    fs, proc = v1_tree(tmp_path, 2 * GIB, usage=GIB // 2)
    found = cgroup.memory_limit(fs, proc)
    assert found is not None and found.version == 1 and found.limit == 2 * GIB
    assert found.available == 2 * GIB - GIB // 2
    fs, proc = v1_tree(tmp_path / "b", 9223372036854771712)
    assert cgroup.memory_limit(fs, proc) is None


def test_v1_path_not_visible_in_the_container_falls_back_to_its_root(tmp_path: Path) -> None:
    fs, proc = v1_tree(tmp_path, 2 * GIB)
    (fs / "memory" / "memory.limit_in_bytes").write_text(f"{3 * GIB}\n")
    proc.write_text("4:memory:/kubepods/besteffort/pod123\n")  # the host's path, not mounted here
    assert cgroup.memory_limit(fs, proc).limit == 3 * GIB  # type: ignore[union-attr]


def test_no_cgroup_file_means_no_limit(tmp_path: Path) -> None:
    assert cgroup.memory_limit(tmp_path, tmp_path / "missing") is None


@pytest.mark.parametrize(("limit_gib", "ok"), [(2, True), (1, False)])
def test_doctor_reports_the_limit_and_warns_below_the_need(tmp_path: Path, limit_gib: int, ok: bool) -> None:
    fs, proc = v2_tree(tmp_path, {"pod": str(limit_gib * GIB)}, membership="/pod")
    limit = cgroup.memory_limit(fs, proc)
    checks = {c.name: c for c in doctor.memory_checks(64 * GIB, 0, limit)}
    assert checks["container memory limit"].ok is ok
    assert f"{limit_gib * 1024} MiB (cgroup v2" in checks["container memory limit"].detail
    # the host's 64 GiB free say nothing: what the container may still use counts
    assert checks["memory"].ok is ok and f"{limit_gib * 1024} MiB available" in checks["memory"].detail


def test_doctor_counts_the_courses_running_brokers_as_available() -> None:
    limit = cgroup.MemoryLimit(2 * GIB, GIB, 2, Path("/sys/fs/cgroup/memory.max"))  # 1 GiB used …
    checks = {c.name: c for c in doctor.memory_checks(64 * GIB, 0, limit)}
    assert not checks["memory"].ok
    checks = {c.name: c for c in doctor.memory_checks(64 * GIB, 700 * 2**20, limit)}  # … by our brokers
    assert checks["memory"].ok and "700 MiB used by the course's brokers" in checks["memory"].detail


def test_doctor_without_a_container_checks_only_the_host() -> None:
    checks = doctor.memory_checks(GIB, 0, None)
    assert [c.name for c in checks] == ["memory"] and not checks[0].ok


def test_brokerlab_doctor_prints_a_2_gib_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from brokerlab import cli

    fs, proc = v2_tree(tmp_path, {"pod": str(2 * GIB)}, current=GIB // 2, membership="/pod")
    found = cgroup.memory_limit(fs, proc)
    monkeypatch.setattr(cgroup, "memory_limit", lambda: found)  # the doctor reads the real files
    monkeypatch.setenv("BROKERLAB_DATA_DIR", str(tmp_path / "data"))
    cli.main(["doctor", "--port-offset", "3000"])
    out = capsys.readouterr().out
    assert f"[ok ] container memory limit: 2048 MiB (cgroup v2, {fs / 'pod' / 'memory.max'})" in out
    available = next(line for line in out.splitlines() if "] memory:" in line)
    assert int(available.split("memory: ")[1].split()[0]) <= 1536  # at most limit - usage

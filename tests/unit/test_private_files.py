"""Run directories and secrets of the native brokers are private from their creation."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from brokerlab.brokers import files, native


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The most permissive umask: whatever is private was made so on purpose, not by the umask."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_private_dir_creates_every_missing_part_0700(tmp_path: Path, open_umask) -> None:
    target = files.private_dir(tmp_path / "data" / "run" / "single")
    assert [mode(p) for p in (tmp_path / "data", tmp_path / "data" / "run", target)] == [0o700] * 3


def test_private_dir_tightens_an_existing_directory(tmp_path: Path, open_umask) -> None:
    old = tmp_path / "run"
    old.mkdir(mode=0o755)
    assert mode(old) == 0o755
    files.private_dir(old)
    assert mode(old) == 0o700


def test_write_private_creates_the_file_with_its_mode_and_replaces_it_whole(tmp_path: Path,
                                                                            open_umask) -> None:
    secret = tmp_path / "cookie"
    files.write_private(secret, "first", mode=0o400)
    assert (secret.read_text(), mode(secret)) == ("first", 0o400)
    files.write_private(secret, "second", mode=0o400)  # replaces even a read-only file
    assert (secret.read_text(), mode(secret)) == ("second", 0o400)
    files.write_private(tmp_path / "identity.json", "{}")
    assert mode(tmp_path / "identity.json") == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cookie", "identity.json"]  # no temp files left


def test_the_deployment_identity_is_private(tmp_path: Path, open_umask) -> None:
    home = tmp_path / "run" / "single"
    identity = native._identity(home)
    assert len(identity["erlang_cookie"]) == 32 and identity["kafka_cluster_id"]
    assert (mode(tmp_path / "run"), mode(home), mode(home / "identity.json")) == (0o700, 0o700, 0o600)
    assert json.loads((home / "identity.json").read_text()) == identity == native._identity(home)

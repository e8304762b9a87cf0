"""Bad environments fail fast with the missing piece and the install command; nothing starts."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brokerlab.brokers import kafka_native, native, rabbitmq_native
from brokerlab.errors import BrokerlabError


def fake_java(tmp_path: Path, version_line: str) -> Path:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(0o755)
    return home


@pytest.mark.parametrize("line,major", [
    ('openjdk version "17.0.15" 2025-04-15', 17),
    ('java version "1.8.0_392"', 8),
    ('openjdk version "21" 2023-09-19', 21),
    ("garbage", 0),
])
def test_java_version_parsing(tmp_path, line, major):
    home = fake_java(tmp_path, line)
    assert kafka_native.java_major_version(str(home / "bin" / "java")) == major


def test_old_java_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(fake_java(tmp_path, 'java version "1.8.0_392"')))
    with pytest.raises(BrokerlabError, match="Java 8") as info:
        kafka_native.java_executable()
    assert "openjdk-17" in info.value.fix


def test_missing_java_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerlabError, match="Java is not installed") as info:
        kafka_native.java_executable()
    assert "apt-get install" in info.value.fix


def test_missing_rabbitmq_server_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(rabbitmq_native, "SERVER_CANDIDATES", (str(tmp_path / "none"),))
    monkeypatch.delenv("BROKERLAB_RABBITMQ_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerlabError, match="rabbitmq-server is not installed") as info:
        rabbitmq_native.server_script()
    assert "apt-get install -y rabbitmq-server" in info.value.fix


def test_cli_up_without_java_exits_fast_and_starts_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env.update(PATH=f"{Path(sys.executable).parent}:/usr/local/bin/none", BROKERLAB_DATA_DIR=str(tmp_path))
    t0 = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "brokerlab.cli", "up", "--port-offset", "3000"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert "Java is not installed" in result.stderr and "apt-get install" in result.stderr
    assert time.monotonic() - t0 < 30  # "within seconds": generous bound, the path has no waits
    assert not list(tmp_path.rglob("pid.json"))


def test_busy_port_is_named_with_a_way_out(tmp_path):
    deployment = native.single(2000, data=tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 5672 + 2000))
        squatter.listen()
        with pytest.raises(BrokerlabError) as info:
            deployment.up(progress=lambda _m: None)
    assert "7672" in info.value.problem and "AMQP" in info.value.problem
    assert "--port-offset" in info.value.fix
    assert not list(tmp_path.rglob("pid.json"))  # never a silent second broker


def test_port_offset_validation():
    for bad in ("-1", "abc", "3901"):
        with pytest.raises(BrokerlabError, match="Port offset"):
            native.port_offset(bad)  # type: ignore[arg-type]
    assert native.port_offset(5) == 5

"""Binder and conda files stay in step with pyproject.toml and follow repo2docker's rules."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower().replace("_", "-")


def pip_requirements(path: Path) -> set[str]:
    env = yaml.safe_load(path.read_text())
    pip = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, f"{path}: one pip section expected"
    return {normalise(r) for r in pip[0]["pip"]}


def test_environment_lists_exactly_the_package_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert pip_requirements(ROOT / "environment.yml") == {normalise(d) for d in project["dependencies"]}
    python = [d for d in yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
              if isinstance(d, str) and d.startswith("python")]
    minimum = project["requires-python"].removeprefix(">=")
    assert python and python[0].split("=")[-1] >= minimum


def test_binder_environment_is_the_root_one():
    # repo2docker ignores root config files once binder/ exists, so binder/ carries a copy.
    assert (ROOT / "binder" / "environment.yml").read_text() == (ROOT / "environment.yml").read_text()


def test_apt_txt_brings_java_rabbitmq_and_maven():
    packages = (ROOT / "binder" / "apt.txt").read_text().split()
    assert any(p.startswith("openjdk-") and int(p.split("-")[1]) >= 17 for p in packages)
    assert {"rabbitmq-server", "maven"} <= set(packages)


def test_scripts_fail_loudly_and_hand_over():
    post_build = (ROOT / "binder" / "postBuild").read_text()
    start = (ROOT / "binder" / "start").read_text()
    assert "set -euo pipefail" in post_build and "brokerlab fetch" in post_build
    assert "brokerlab bench fetch" in post_build
    assert start.rstrip().splitlines()[-1] == 'exec "$@"'
    assert "&" in start  # brokers start in the background: start must return within seconds
    for script in ("postBuild", "start"):
        assert (ROOT / "binder" / script).stat().st_mode & 0o111, f"binder/{script} is not executable"

"""Java dependencies pinned by checked-in Maven manifests, resolved once into the jar cache.

``mvn dependency:copy-dependencies`` copies a manifest's runtime jars into
``<cache>/<name>-<version>``; a ``.complete`` marker makes later calls touch no network.
Kafka (``brokers/kafka/pom.xml``) and RabbitMQ PerfTest (``brokers/perftest/pom.xml``) use it.
Kafka's version is pinned in :mod:`brokerlab.brokers.config` (one pin for every backend) and
passed to Maven, so the manifest's own ``<kafka.version>`` cannot pick another release.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from brokerlab import settings
from brokerlab.brokers import config
from brokerlab.brokers.kafka_native import NO_PERF_DATA
from brokerlab.errors import BrokerlabError


@dataclass(frozen=True)
class Manifest:
    """A checked-in Maven manifest whose runtime jars are cached under one directory."""

    name: str  # cache directory prefix, e.g. "perftest"
    relative_pom: str  # path inside the course checkout
    version_property: str  # the <property> that pins the version
    marker_glob: str  # a jar that must be present after resolution
    pinned: str | None = None  # the version, when the course pins it outside the manifest

    def pom(self) -> Path:
        root = settings.project_root()
        if root is None or not (root / self.relative_pom).is_file():
            raise BrokerlabError(
                f"The manifest {self.relative_pom} was not found (brokerlab is not installed from a "
                "course checkout).", "Install the course with `make setup` from its repository.")
        return root / self.relative_pom

    def version(self) -> str:
        if self.pinned:
            return self.pinned
        return self.manifest_version()

    def manifest_version(self) -> str:
        """The version the manifest itself names in its ``<version_property>``."""
        tag = re.escape(self.version_property)
        match = re.search(rf"<{tag}>([^<]+)</{tag}>", self.pom().read_text())
        if not match:
            raise BrokerlabError(f"No <{self.version_property}> in {self.pom()}.",
                                 "Restore the file from git.")
        return match.group(1)

    def jar_dir(self, cache: Path) -> Path:
        return cache / f"{self.name}-{self.version()}"

    def cached(self, cache: Path) -> bool:
        return (self.jar_dir(cache) / ".complete").is_file()

    def ensure(self, cache: Path) -> Path:
        """Resolve the jars with Maven once; later calls touch no network."""
        target = self.jar_dir(cache)
        if self.cached(cache):
            return target
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerlabError(
                f"{self.name} {self.version()} jars are not cached and Maven (mvn) is not installed.",
                "Install Maven: sudo apt-get install -y maven   (macOS: brew install maven).")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        cmd = [mvn, "-q", "-B", "-f", str(self.pom()), "dependency:copy-dependencies",
               f"-DoutputDirectory={partial}", "-DincludeScope=runtime",
               f"-D{self.version_property}={self.version()}"]
        opts = " ".join(filter(None, (os.environ.get("MAVEN_OPTS"), NO_PERF_DATA)))  # Maven's own JVM too
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                                env={**os.environ, "MAVEN_OPTS": opts})
        if result.returncode != 0 or not any(partial.glob(self.marker_glob)):
            raise BrokerlabError(
                f"Maven could not resolve the {self.name} jars:\n"
                + (result.stdout + result.stderr)[-2000:],
                "Check that Maven Central is reachable (proxy settings in ~/.m2/settings.xml).")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        (target / ".complete").write_text(self.version())
        return target


KAFKA = Manifest("kafka", "brokers/kafka/pom.xml", "kafka.version", "kafka_2.13-*.jar",
                 pinned=config.KAFKA_VERSION)
PERFTEST = Manifest("perftest", "brokers/perftest/pom.xml", "perftest.version", "perf-test-*.jar")

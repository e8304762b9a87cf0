"""Java tools for the benchmarks: Kafka's perf tools and RabbitMQ PerfTest, from cached jars.

Kafka's ``ProducerPerformance`` / ``ConsumerPerformance`` are already in the broker's jar cache;
PerfTest has its own manifest, ``brokers/perftest/pom.xml``. Both resolve through
:mod:`brokerlab.brokers.maven`, once, with no network afterwards.
"""

from __future__ import annotations

from pathlib import Path

from brokerlab import settings
from brokerlab.brokers import kafka_native, maven

# A small client JVM: the tools are clients, the brokers need the memory more.
TOOL_JVM_OPTIONS = ["-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
                    kafka_native.NO_PERF_DATA]
PERFTEST_MAIN = "com.rabbitmq.perf.PerfTest"
PRODUCER_PERFORMANCE = "org.apache.kafka.tools.ProducerPerformance"
CONSUMER_PERFORMANCE = "org.apache.kafka.tools.ConsumerPerformance"


def cache_dir() -> Path:
    """The jar cache shared with the brokers: ``<data dir>/cache``."""
    return settings.data_dir() / "cache"


def perftest_jars(cache: Path | None = None) -> Path:
    """PerfTest's jar directory, resolved on first use."""
    return maven.PERFTEST.ensure(cache or cache_dir())


def kafka_tool_jars(cache: Path | None = None) -> Path:
    """Kafka's jar directory (the broker's own cache; it holds the perf tools too)."""
    return maven.KAFKA.ensure(cache or cache_dir())


def java_command(jars: Path, main: str, *args: str) -> list[str]:
    """``java -cp '<jars>/*' main args…`` with a small client heap, like KafkaNode runs its tools."""
    return [kafka_native.java_executable(), *TOOL_JVM_OPTIONS, "-cp", f"{jars}/*", main, *args]

"""The external backend: a cluster named by environment variables; brokerlab only checks it.

Nothing is started or stopped: ``up`` proves a real round trip on each broker, ``down`` says there
is nothing to stop, ``status`` reports reachability in the same shape as the other backends.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from brokerlab.brokers.backend import BrokerStatus, Status, UpReport
from brokerlab.brokers.management import Management
from brokerlab.brokers.roundtrip import kafka_roundtrip, rabbitmq_roundtrip
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints, endpoints


class ExternalBackend:
    """Brokers someone else runs (a class server, a managed service)."""

    def __init__(self) -> None:
        self.ep: Endpoints = endpoints()
        # Security settings (SASL/TLS) from the environment, passed through to confluent-kafka.
        self.kafka_extra = {k: v for k, v in self.ep.kafka_config().items() if k != "bootstrap.servers"}

    def _kafka(self, timeout: float) -> float:
        return kafka_roundtrip(self.ep.kafka_bootstrap_servers, timeout=timeout, extra=self.kafka_extra)

    def _rabbit(self, timeout: float) -> float:
        return rabbitmq_roundtrip(self.ep.rabbitmq_url, timeout=timeout)

    def up(self, progress: Callable[[str], None] = print) -> UpReport:
        progress(f"Using the cluster named by the environment: Kafka {self.ep.kafka_bootstrap_servers}, "
                 f"RabbitMQ {self.ep.rabbitmq_management_url} — nothing to start.")
        report = UpReport(already_up=False)
        for name, check in (("kafka", self._kafka), ("rabbitmq", self._rabbit)):
            t0 = time.monotonic()
            check(20)
            report.seconds[name] = time.monotonic() - t0
        return report

    def down(self, purge: bool = False) -> list[str]:
        if purge:
            raise BrokerlabError("--purge would delete data on a cluster the course does not own.",
                                 "Use `brokerlab reset --yes` to delete only your namespace's objects.")
        return []

    def status(self) -> Status:
        def reachable(check: Callable[[float], float]) -> bool:
            try:
                check(5)
                return True
            except BrokerlabError:
                return False

        rabbit_up = reachable(self._rabbit)
        management = self.ep.rabbitmq_management_url
        rabbit_version = Management(management, timeout=3).version() if rabbit_up else None
        return Status(
            backend="external", deployment="environment", data_dir=None,
            kafka=BrokerStatus(up=reachable(self._kafka), version=None,
                               endpoints={"bootstrap_servers": self.ep.kafka_bootstrap_servers}),
            rabbitmq=BrokerStatus(up=rabbit_up, version=rabbit_version,
                                  endpoints={"amqp_url": self.ep.rabbitmq_url,
                                             "management_url": management}),
        )

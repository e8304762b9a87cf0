"""Which brokers already answer before ``make lab`` starts any: the course's own native pair, the
Docker Compose containers, someone else's brokers on the endpoints, or none.

``make lab`` (scripts/lab.sh) asks this first, so "brokers from Docker, course from the host" needs
neither Java nor rabbitmq-server: brokers that already answer are used, not started again.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from brokerlab import settings
from brokerlab.brokers import native
from brokerlab.brokers.ports import is_open
from brokerlab.brokers.roundtrip import kafka_roundtrip, rabbitmq_roundtrip
from brokerlab.errors import BrokerlabError


def _answers(kind: str, endpoint: str, timeout: float) -> bool:
    """A real round trip, tried only when something accepts connections on the endpoint's port."""
    if kind == "kafka":
        host, _, port = endpoint.split(",")[0].rpartition(":")
    else:
        parts = urlsplit(endpoint)
        host, port = parts.hostname or "", str(parts.port or 5672)
    if not port.isdigit() or not is_open(int(port), host or "127.0.0.1"):
        return False
    try:
        (kafka_roundtrip if kind == "kafka" else rabbitmq_roundtrip)(endpoint, timeout=timeout)
    except BrokerlabError:
        return False
    return True


def detect(ep: settings.Endpoints | None = None, deployment: native.NativeDeployment | None = None,
           timeout: float = 10.0) -> str:
    """One of ``native`` when the course's own deployment runs, ``compose`` when the course's
    containers answer, ``external`` when other brokers answer on the endpoints (the environment's,
    else the defaults), ``none`` when nothing does. Only one of the two answering is an error that
    says which."""
    ep = ep or settings.endpoints()
    if ep.source != "environment" and (deployment or native.single()).is_up():
        return "native"
    kafka, amqp = ep.kafka_bootstrap_servers, ep.rabbitmq_url
    kafka_up, rabbit_up = _answers("kafka", kafka, timeout), _answers("rabbitmq", amqp, timeout)
    if not kafka_up and not rabbit_up and ep.source != "environment":
        return "none"
    if not (kafka_up and rabbit_up):
        raise _not_answering({"Kafka": (kafka, kafka_up), "RabbitMQ": (amqp.split("@")[-1], rabbit_up)},
                             named_by_environment=ep.source == "environment")
    if ep.source == "environment":
        return "external"
    from brokerlab.brokers import compose

    if compose.docker_available() and compose.ComposeBackend().is_up():
        return "compose"
    return "external"


def _not_answering(found: dict[str, tuple[str, bool]], named_by_environment: bool) -> BrokerlabError:
    """The error for brokers that do not both answer: which one answers, which do not, and why."""
    silent = [f"{name} at {where}" for name, (where, up) in found.items() if not up]
    said = "".join(f"{name} answers at {where}, but " for name, (where, up) in found.items() if up)
    problem = f"{said}{' and '.join(silent)} {'does' if len(silent) == 1 else 'do'} not answer"
    if named_by_environment:
        return BrokerlabError(problem + " (named by the environment).",
                              "Check the endpoints in KAFKA_BOOTSTRAP_SERVERS / RABBITMQ_URL, or unset "
                              "them to use the course's own brokers.")
    return BrokerlabError(
        problem + ": half of a deployment is running (containers still starting, or one stopped?).",
        "With Docker: `docker compose up -d --wait`, then run `make lab` again. Otherwise stop what "
        "holds the port, and `make lab` starts both brokers itself.")


def environment(found: str, ep: settings.Endpoints | None = None) -> dict[str, str]:
    """The variables that point the course at what was found (none for brokers it starts itself)."""
    ep = ep or settings.endpoints()
    if found == "compose":
        return {"BROKERLAB_BACKEND": "compose"}
    if found == "external":
        return {"KAFKA_BOOTSTRAP_SERVERS": ep.kafka_bootstrap_servers, "RABBITMQ_URL": ep.rabbitmq_url,
                "RABBITMQ_MANAGEMENT_URL": ep.rabbitmq_management_url}
    return {}

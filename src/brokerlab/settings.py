"""Where the course's brokers are: environment variables first, then the native launcher's state.

The environment contract (all backends, notebooks and tests):
``KAFKA_BOOTSTRAP_SERVERS``, ``RABBITMQ_URL``, ``RABBITMQ_MANAGEMENT_URL`` (and
``RABBITMQ_MQTT_URL``, ``RABBITMQ_STOMP_URL``, ``RABBITMQ_STREAM_URL``) win when set;
``BROKERLAB_NAMESPACE`` prefixes every name the course creates; ``BROKERLAB_DATA_DIR`` moves
the native launcher's data.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pika

from brokerlab.errors import BrokerlabError

DEFAULT_KAFKA = "127.0.0.1:9092"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_MANAGEMENT = "http://127.0.0.1:15672"
DEFAULT_MQTT = "mqtt://127.0.0.1:1883"
DEFAULT_STOMP = "stomp://127.0.0.1:61613"
DEFAULT_STREAM = "rabbitmq-stream://127.0.0.1:5552"  # RabbitMQ's stream protocol (rstream)
_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9._-]{0,40}$")
# Client settings for managed clusters, passed through unchanged to confluent-kafka.
_KAFKA_PASSTHROUGH = {
    "KAFKA_SECURITY_PROTOCOL": "security.protocol",
    "KAFKA_SASL_MECHANISM": "sasl.mechanism",
    "KAFKA_SASL_USERNAME": "sasl.username",
    "KAFKA_SASL_PASSWORD": "sasl.password",
    "KAFKA_SSL_CA_LOCATION": "ssl.ca.location",
}


def project_root() -> Path | None:
    """The course checkout this package was installed from (editable install), if any."""
    candidate = Path(__file__).resolve().parents[2]
    return candidate if (candidate / "brokers" / "kafka" / "pom.xml").is_file() else None


def data_dir() -> Path:
    """The native launcher's home: ``$BROKERLAB_DATA_DIR``, else ``<checkout>/.brokerlab``."""
    if os.environ.get("BROKERLAB_DATA_DIR"):
        return Path(os.environ["BROKERLAB_DATA_DIR"]).expanduser().resolve()
    root = project_root()
    if root is not None:
        return root / ".brokerlab"
    return Path.home() / ".local" / "share" / "brokerlab"


def progress_dir() -> Path:
    """Where exercise progress and claim verdicts are kept: ``$BROKERLAB_PROGRESS_DIR`` or
    ``<data dir>/progress``."""
    override = os.environ.get("BROKERLAB_PROGRESS_DIR")
    return Path(override).expanduser() if override else data_dir() / "progress"


def namespace() -> str:
    """The validated ``BROKERLAB_NAMESPACE`` prefix ('' when unset)."""
    value = os.environ.get("BROKERLAB_NAMESPACE", "")
    if not _NAMESPACE_RE.match(value):
        raise BrokerlabError(
            f"BROKERLAB_NAMESPACE={value!r} is not a valid prefix.",
            "Use up to 40 letters, digits, '.', '_' or '-', e.g. export BROKERLAB_NAMESPACE=alice-",
        )
    return value


def ns(name: str) -> str:
    """Prefix a topic, queue, exchange or group name with the learner's namespace."""
    return f"{namespace()}{name}"


def _validate_bootstrap(value: str) -> str:
    for server in value.split(","):
        host, _, port = server.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BrokerlabError(
                f"KAFKA_BOOTSTRAP_SERVERS={value!r}: {server!r} is not host:port.",
                "Set it like 127.0.0.1:9092 (comma-separated for several brokers).",
            )
    return value


def _validate_url(name: str, value: str, schemes: tuple[str, ...], example: str) -> str:
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = urlsplit("")
    if parts.scheme not in schemes or not parts.hostname or not port_ok:
        raise BrokerlabError(
            f"{name}={value!r} is not a valid {'/'.join(schemes)} URL.",
            f"Set it like {example}",
        )
    return value


@dataclass(frozen=True)
class Endpoints:
    """How clients reach one Kafka and one RabbitMQ."""

    kafka_bootstrap_servers: str
    rabbitmq_url: str
    rabbitmq_management_url: str
    source: str  # "environment", "native" or "default"
    rabbitmq_mqtt_url: str = DEFAULT_MQTT
    rabbitmq_stomp_url: str = DEFAULT_STOMP
    rabbitmq_stream_url: str = DEFAULT_STREAM

    def kafka_config(self, **extra: object) -> dict[str, object]:
        """A confluent-kafka config dict: bootstrap servers, pass-through security settings, extras."""
        conf: dict[str, object] = {"bootstrap.servers": self.kafka_bootstrap_servers}
        for env, key in _KAFKA_PASSTHROUGH.items():
            if os.environ.get(env):
                conf[key] = os.environ[env]
        conf.update(extra)
        return conf

    @property
    def stream_address(self) -> tuple[str, int]:
        """Host and port of RabbitMQ's stream protocol, as rstream's ``Producer``/``Consumer`` take them."""
        parts = urlsplit(self.rabbitmq_stream_url)
        return parts.hostname or "127.0.0.1", parts.port or 5552

    @property
    def management_auth(self) -> tuple[str, str]:
        """Credentials for the management API: the AMQP URL's user, else guest."""
        parts = urlsplit(self.rabbitmq_url)
        return (unquote(parts.username or "guest"), unquote(parts.password or "guest"))


def amqp_url(host: str, port: int, user: str = "guest", password: str = "guest") -> str:
    """An AMQP URL for the default vhost."""
    return f"amqp://{quote(user)}:{quote(password)}@{host}:{port}/%2F"


def amqp_parameters(url: str, timeout: float = 5.0,
                    blocked_timeout: float | None = None) -> pika.URLParameters:
    """pika parameters that never hang: a socket timeout, a timeout while the broker blocks
    publishers (memory or disk alarm; defaults to ``timeout``) and a single connection attempt."""
    params = pika.URLParameters(url)
    params.socket_timeout = timeout
    params.blocked_connection_timeout = timeout if blocked_timeout is None else blocked_timeout
    params.connection_attempts = 1
    return params


def endpoints() -> Endpoints:
    """Endpoints from the environment, else from a running native launcher, else the defaults."""
    state_file = data_dir() / "run" / "single" / "endpoints.json"
    saved: dict[str, str] = {}
    if state_file.is_file():
        try:
            saved = json.loads(state_file.read_text())
        except (OSError, ValueError):
            saved = {}
    env_keys = ("KAFKA_BOOTSTRAP_SERVERS", "RABBITMQ_URL", "RABBITMQ_MANAGEMENT_URL")
    source = "environment" if any(os.environ.get(k) for k in env_keys) else (
        "native" if saved else "default"
    )
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or saved.get("kafka", DEFAULT_KAFKA)
    amqp = os.environ.get("RABBITMQ_URL") or saved.get("amqp", DEFAULT_AMQP)
    mgmt = os.environ.get("RABBITMQ_MANAGEMENT_URL") or saved.get("management", DEFAULT_MANAGEMENT)
    mqtt = os.environ.get("RABBITMQ_MQTT_URL") or saved.get("mqtt") or DEFAULT_MQTT
    stomp = os.environ.get("RABBITMQ_STOMP_URL") or saved.get("stomp") or DEFAULT_STOMP
    stream = os.environ.get("RABBITMQ_STREAM_URL") or saved.get("stream") or DEFAULT_STREAM
    return Endpoints(
        kafka_bootstrap_servers=_validate_bootstrap(kafka),
        rabbitmq_url=_validate_url("RABBITMQ_URL", amqp, ("amqp", "amqps"), DEFAULT_AMQP),
        rabbitmq_management_url=_validate_url(
            "RABBITMQ_MANAGEMENT_URL", mgmt, ("http", "https"), DEFAULT_MANAGEMENT
        ).rstrip("/"),
        source=source,
        rabbitmq_mqtt_url=_validate_url("RABBITMQ_MQTT_URL", mqtt, ("mqtt", "mqtts"), DEFAULT_MQTT),
        rabbitmq_stomp_url=_validate_url("RABBITMQ_STOMP_URL", stomp, ("stomp", "stomp+ssl"),
                                         DEFAULT_STOMP),
        rabbitmq_stream_url=_validate_url("RABBITMQ_STREAM_URL", stream,
                                          ("rabbitmq-stream", "rabbitmq-stream+tls"), DEFAULT_STREAM),
    )

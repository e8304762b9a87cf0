"""Throwaway brokers for tests on machines with Docker, through testcontainers.

``kafka_and_rabbitmq()`` starts one Kafka and one RabbitMQ in containers on random host ports,
proves each with a real round trip, yields their ``Endpoints`` and removes both afterwards.
testcontainers is imported only inside functions: ``import brokerlab`` never needs Docker.

Kafka uses the official ``apache/kafka`` image through a generic container: testcontainers'
``KafkaContainer`` drives Confluent images only (its start script calls
``/etc/confluent/docker/*``, which ``apache/kafka`` does not have).
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from brokerlab import settings
from brokerlab.brokers import config
from brokerlab.brokers.compose import NO_ENGINE_FIX, docker_available
from brokerlab.brokers.management import Management
from brokerlab.errors import BrokerlabError
from brokerlab.waiting import wait_for

if TYPE_CHECKING:  # pragma: no cover - typing only
    from testcontainers.core.container import DockerContainer

KAFKA_IMAGE = config.KAFKA_IMAGE  # docker-compose.yml names the same image (tests check it)
RABBITMQ_IMAGE = "rabbitmq:3.13.7-management"
RABBITMQ_FILES = {"enabled_plugins": "/etc/rabbitmq/enabled_plugins",
                  "compose-single.conf": "/etc/rabbitmq/conf.d/90-brokerlab.conf"}
KAFKA_PORT = 9092  # the listener advertised to the host, under its mapped port
START_SCRIPT = "/tmp/brokerlab-kafka-start.sh"
# Single combined KRaft node. The advertised HOST address is only known once the container
# runs (random mapped port), so the container waits for a start script that exports it.
KAFKA_ENV = {
    "CLUSTER_ID": "N5RrZH4QR8uu8EassgsuLg",
    "KAFKA_NODE_ID": "1",
    "KAFKA_PROCESS_ROLES": "broker,controller",
    "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
    "KAFKA_LISTENERS": f"HOST://:{KAFKA_PORT},INTERNAL://:19092,CONTROLLER://:9093",
    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "HOST:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
    "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL",
    "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
    "KAFKA_HEAP_OPTS": config.KAFKA_HEAP,
    **config.kafka_env(config.kafka(1)),  # the course's settings, as every backend has them
}


@contextmanager
def kafka_and_rabbitmq(timeout: float = 180.0) -> Iterator[settings.Endpoints]:
    """Start Kafka and RabbitMQ containers (in parallel), yield their endpoints, remove them."""
    if not docker_available():
        raise BrokerlabError("No Docker engine answers, so testcontainers cannot start brokers.",
                             NO_ENGINE_FIX)
    with ExitStack() as stack:
        kafka = _kafka_container()
        stack.callback(kafka.stop)
        kafka.start()  # returns at once: the broker waits for its start script
        bootstrap = _release_kafka(kafka)
        rabbit = _rabbitmq_container()
        stack.callback(rabbit.stop)
        with ThreadPoolExecutor(max_workers=1) as pool:
            rabbit_started = pool.submit(rabbit.start)  # blocks until AMQP accepts a connection
            _wait_kafka(kafka, bootstrap, timeout)
            rabbit_started.result(timeout=timeout)
        host = rabbit.get_container_host_ip()
        amqp = settings.amqp_url(host, int(rabbit.get_exposed_port(5672)))
        management = f"http://{host}:{rabbit.get_exposed_port(15672)}"
        _wait_rabbitmq(amqp, management, timeout)
        yield settings.Endpoints(
            kafka_bootstrap_servers=bootstrap, rabbitmq_url=amqp, rabbitmq_management_url=management,
            source="testcontainers", rabbitmq_mqtt_url=f"mqtt://{host}:{rabbit.get_exposed_port(1883)}",
            rabbitmq_stomp_url=f"stomp://{host}:{rabbit.get_exposed_port(61613)}",
            rabbitmq_stream_url=f"rabbitmq-stream://{host}:{rabbit.get_exposed_port(5552)}")


def _kafka_container() -> DockerContainer:
    from testcontainers.core.container import DockerContainer

    container = DockerContainer(KAFKA_IMAGE).with_exposed_ports(KAFKA_PORT)
    container.with_envs(**KAFKA_ENV)
    return container.with_command(
        ["bash", "-c", f"while [ ! -f {START_SCRIPT} ]; do sleep 0.1; done; exec bash {START_SCRIPT}"])


def _release_kafka(container: DockerContainer) -> str:
    """Write the start script that advertises the mapped host address; the bootstrap string."""
    bootstrap = f"{container.get_container_host_ip()}:{container.get_exposed_port(KAFKA_PORT)}"
    script = (f"export KAFKA_ADVERTISED_LISTENERS=HOST://{bootstrap},INTERNAL://localhost:19092\n"
              "exec /etc/kafka/docker/run\n")
    container.get_wrapped_container().put_archive("/", _tar(START_SCRIPT, script.encode()))
    return bootstrap


def _tar(path: str, content: bytes) -> bytes:
    """A one-file tar archive for the Docker API's put_archive (any testcontainers version)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(path.lstrip("/"))
        info.size, info.mode, info.mtime = len(content), 0o644, int(time.time())
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _wait_kafka(container: DockerContainer, bootstrap: str, timeout: float) -> None:
    """Until a produce/consume round trip passes; fail early if the container exits."""
    from brokerlab.brokers.roundtrip import kafka_roundtrip

    deadline = time.monotonic() + timeout
    while True:
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status in ("exited", "dead"):
            raise BrokerlabError("The Kafka container exited while starting:\n"
                                 + wrapped.logs(tail=40).decode(errors="replace"),
                                 f"Check the image {KAFKA_IMAGE} runs: docker run --rm {KAFKA_IMAGE}")
        try:
            kafka_roundtrip(bootstrap, timeout=min(15.0, max(1.0, deadline - time.monotonic())))
            return
        except BrokerlabError:
            if time.monotonic() > deadline:
                raise


def _rabbitmq_container() -> DockerContainer:
    try:
        from testcontainers.community.rabbitmq import RabbitMqContainer
    except ImportError:  # testcontainers < 4.14
        from testcontainers.rabbitmq import RabbitMqContainer

    # Every setting given explicitly: RabbitMqContainer falls back to RABBITMQ_NODE_PORT,
    # RABBITMQ_DEFAULT_USER ... from this process's environment, which the native backend sets.
    container = RabbitMqContainer(RABBITMQ_IMAGE, port=5672, username="guest", password="guest",
                                  vhost="/")
    # The same plugins (management, MQTT, STOMP, stream) and settings as docker-compose.yml's single
    # node. The stream port is mapped to a random host port here, while the node advertises
    # 127.0.0.1:5552: rstream clients connect with load_balancer_mode=True, which keeps the
    # address they were given (one node, so it is always the stream's leader).
    root = settings.project_root()
    if root is None:
        raise BrokerlabError("The testcontainers backend needs the course checkout (brokers/rabbitmq/).",
                             "Run the tests from a clone of the course.")
    for name, target in RABBITMQ_FILES.items():
        container.with_volume_mapping(root / "brokers" / "rabbitmq" / name, target)
    return container.with_exposed_ports(15672, 1883, 61613, 5552)


def _wait_rabbitmq(amqp_url: str, management_url: str, timeout: float) -> None:
    """Until the management API answers and a publish/get round trip passes."""
    from brokerlab.brokers.roundtrip import rabbitmq_roundtrip

    deadline = time.monotonic() + timeout
    wait_for(Management(management_url, timeout=3).version, timeout, 0.5,
             problem=f"The RabbitMQ management API at {management_url} did not answer within "
                     f"{timeout:.0f} s.", fix="Check `docker ps` and the container logs.")
    rabbitmq_roundtrip(amqp_url, timeout=max(10.0, deadline - time.monotonic()))

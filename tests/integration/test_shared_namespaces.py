"""Shared-cluster mode: two learners run the same lessons at once against the same brokers.

Both runs must pass, every object created meanwhile must carry one of the two namespaces (so
nobody touches anyone else's topics, groups, queues or exchanges), and nothing may be left behind.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from confluent_kafka.admin import AdminClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ["notebooks/02_kafka_walkthrough.ipynb", "notebooks/03_rabbitmq_walkthrough.ipynb",
           "notebooks/04_delivery_guarantees.ipynb"]
LEARNERS = ("alice-", "bob-")


def object_names(brokers, admin: AdminClient) -> set[str]:
    """Every topic, consumer group, queue and exchange on the brokers right now."""
    names = set(admin.list_topics(timeout=10).topics)
    names |= {g.group_id for g in admin.list_consumer_groups(request_timeout=10).result(timeout=15).valid}
    for kind in ("queues", "exchanges"):
        reply = requests.get(f"{brokers.rabbitmq_management_url}/api/{kind}", auth=brokers.management_auth,
                             timeout=10)
        names |= {item["name"] for item in reply.json()}
    return names


def broker_made(name: str) -> bool:
    """Names the brokers give themselves (server-named queues, internal topics)."""
    return name == "" or name.startswith(("amq.", "__"))


def test_two_namespaces_at_once_do_not_touch_each_other(brokers, tmp_path):
    admin = AdminClient(brokers.kafka_config())
    before = object_names(brokers, admin)
    seen: set[str] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            with contextlib.suppress(Exception):  # a transient API hiccup must not end the watch
                seen.update(object_names(brokers, admin) - before)
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    env = {**os.environ,
           # Shared mode: the cluster comes from the environment, as in a classroom.
           "KAFKA_BOOTSTRAP_SERVERS": brokers.kafka_bootstrap_servers,
           "RABBITMQ_URL": brokers.rabbitmq_url,
           "RABBITMQ_MANAGEMENT_URL": brokers.rabbitmq_management_url,
           "RABBITMQ_MQTT_URL": brokers.rabbitmq_mqtt_url,
           "RABBITMQ_STOMP_URL": brokers.rabbitmq_stomp_url}
    runs = {}
    for learner in LEARNERS:
        log = open(tmp_path / f"{learner}log", "w")  # noqa: SIM115 — closed after the run below
        runs[learner] = (subprocess.Popen(
            [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
             "--nbval-cell-timeout=300", "-q", *LESSONS],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**env, "BROKERLAB_NAMESPACE": learner,
                 "BROKERLAB_PROGRESS_DIR": str(tmp_path / f"{learner}progress")}), log)
    try:
        for learner, (proc, log) in runs.items():
            proc.wait(timeout=900)
            log.close()
            output = (tmp_path / f"{learner}log").read_text()
            assert proc.returncode == 0, f"{learner} run failed:\n{output[-4000:]}"
    finally:
        for proc, _log in runs.values():
            if proc.poll() is None:
                proc.kill()
        done.set()
        watcher.join(10)

    strays = sorted(n for n in seen if not n.startswith(LEARNERS) and not broker_made(n))
    assert not strays, f"objects created outside both namespaces: {strays}"
    assert any(n.startswith("alice-") for n in seen) and any(n.startswith("bob-") for n in seen)
    left = sorted(n for n in object_names(brokers, admin) - before if n.startswith(LEARNERS))
    assert not left, f"left behind: {left}"

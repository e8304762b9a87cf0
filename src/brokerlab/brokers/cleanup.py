"""Delete what the course created: topics, consumer groups, queues and exchanges by name prefix."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from brokerlab.brokers.management import Management, api_path
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints
from brokerlab.waiting import wait_for

TIMEOUT = 15


def _owned(name: str, prefix: str) -> bool:
    """A course object: starts with the prefix and is not one of the brokers' own."""
    return name.startswith(prefix) and not name.startswith(("__", "amq.")) and name != ""


def discard_kafka(admin: AdminClient, topics: Iterable[str] = (), groups: Iterable[str] = (),
                  wait: float = 10.0) -> None:
    """Best effort, for a checker's or a benchmark's own scratch objects: delete ``groups`` (retrying
    for up to ``wait`` s while a member is still leaving; one that never existed is fine), then
    ``topics``. Never raises: the result being cleaned up after matters more."""
    pending = list(groups)

    def all_deleted() -> bool:
        retry = []
        for group, future in admin.delete_consumer_groups(pending, request_timeout=5).items():
            try:
                future.result(timeout=10)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.GROUP_ID_NOT_FOUND:
                    retry.append(group)  # NON_EMPTY_GROUP: a consumer is still leaving
            except TimeoutError:
                pass
        pending[:] = retry
        return not pending

    if pending:
        wait_for(all_deleted, wait, 0.5)
    names = list(topics)
    if names:
        for future in admin.delete_topics(names, operation_timeout=10).values():
            with contextlib.suppress(KafkaException, TimeoutError):
                future.result(timeout=15)


def kafka(ep: Endpoints, prefix: str, dry_run: bool = False) -> dict[str, list[str]]:
    """Delete every topic and consumer group whose name starts with ``prefix``."""
    admin = AdminClient(ep.kafka_config())
    topics = [t for t in admin.list_topics(timeout=TIMEOUT).topics if _owned(t, prefix)]
    groups_listing = admin.list_consumer_groups(request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    groups = [g.group_id for g in groups_listing.valid if _owned(g.group_id, prefix)]
    if dry_run:
        return {"topics": topics, "groups": groups}
    if topics:
        for future in admin.delete_topics(topics, operation_timeout=TIMEOUT).values():
            future.result(timeout=TIMEOUT)
    if groups:
        for future in admin.delete_consumer_groups(groups, request_timeout=TIMEOUT).values():
            try:
                future.result(timeout=TIMEOUT)
            except KafkaException as exc:  # a group with live members cannot be deleted
                raise BrokerlabError(
                    f"Could not delete consumer group: {exc}",
                    "Close the consumers using it (restart the kernel), then retry.",
                ) from exc
    return {"topics": topics, "groups": groups}


def rabbitmq(ep: Endpoints, prefix: str, vhost: str = "/", dry_run: bool = False) -> dict[str, list[str]]:
    """Delete every queue and exchange whose name starts with ``prefix`` (management API)."""
    api = Management.of(ep, timeout=TIMEOUT)
    deleted: dict[str, list[str]] = {"queues": [], "exchanges": []}
    for kind in ("queues", "exchanges"):
        for item in api.get(api_path(kind, vhost)):
            name = item["name"]
            if _owned(name, prefix) and not dry_run:
                api.delete(api_path(kind, vhost, name))
            if _owned(name, prefix):
                deleted[kind].append(name)
    return deleted

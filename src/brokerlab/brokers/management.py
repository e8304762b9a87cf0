"""RabbitMQ's HTTP management API: one small client with one error policy.

Every answer the course reads from the management API (queues, nodes, bindings, versions) goes
through :class:`Management`, so an unreachable API, a refused user or a missing object always
gives the same clear error with the next step to take.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from brokerlab.errors import BrokerlabError

FIX = ("Check the brokers with `brokerlab status` (start them with `brokerlab up`); on your own "
       "cluster check RABBITMQ_MANAGEMENT_URL and that the management plugin is enabled.")
GUEST = ("guest", "guest")


def api_path(*parts: str) -> str:
    """``/api/<part>/<part>…`` with each part quoted (vhost ``/`` becomes ``%2F``)."""
    return "/api/" + "/".join(quote(p, safe="") for p in parts)


class Management:
    """A management API at ``url`` (e.g. ``http://127.0.0.1:15672``), as user ``auth``."""

    def __init__(self, url: str, auth: tuple[str, str] = GUEST, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.auth = auth
        self.timeout = timeout

    @classmethod
    def of(cls, ep: Any = None, timeout: float = 5.0) -> Management:
        """The management API of the course's endpoints (``settings.endpoints()`` by default)."""
        from brokerlab.settings import endpoints

        ep = ep or endpoints()
        return cls(ep.rabbitmq_management_url, ep.management_auth, timeout)

    def _request(self, method: str, path: str) -> requests.Response:
        try:
            return requests.request(method, self.url + path, auth=self.auth, timeout=self.timeout)
        except requests.RequestException as exc:
            raise BrokerlabError(f"The RabbitMQ management API at {self.url} is not reachable "
                                 f"({type(exc).__name__}).", FIX) from None

    def find(self, path: str) -> Any | None:
        """The JSON at ``path``, or None when nothing is there (404); any other failure raises."""
        reply = self._request("GET", path)
        if reply.status_code == 401:
            raise BrokerlabError(f"The RabbitMQ management API at {self.url} refused user "
                                 f"{self.auth[0]!r} (401).", "Check the user and password in RABBITMQ_URL.")
        if reply.status_code == 404:
            return None
        try:
            reply.raise_for_status()
            return reply.json()
        except (requests.RequestException, ValueError) as exc:
            raise BrokerlabError(f"The RabbitMQ management API answered badly for {path}: {exc}.",
                                 FIX) from None

    def get(self, path: str, missing: tuple[str, str] | None = None) -> Any:
        """The JSON at ``path``. A 404 raises ``missing`` (problem, fix) when given."""
        found = self.find(path)
        if found is None:
            raise BrokerlabError(*(missing or (f"The management API has nothing at {path} (404).", FIX)))
        return found

    def answers(self, path: str) -> Any | None:
        """The JSON at ``path``, or None for any failure (for readiness checks that retry)."""
        try:
            return self.get(path)
        except BrokerlabError:
            return None

    def delete(self, path: str) -> None:
        """Delete the object at ``path``; one that is already gone is fine."""
        reply = self._request("DELETE", path)
        if reply.status_code not in (200, 204, 404):
            raise BrokerlabError(f"Deleting {path} failed: HTTP {reply.status_code}.", FIX)

    def version(self) -> str | None:
        """The RabbitMQ version, or None when the API does not answer."""
        overview = self.answers("/api/overview")
        return overview.get("rabbitmq_version") if isinstance(overview, dict) else None

    def running_nodes(self) -> int:
        """How many nodes the cluster reports running (0 when the API does not answer)."""
        nodes = self.answers("/api/nodes") or []
        return sum(1 for n in nodes if n.get("running"))

    def queue(self, name: str, vhost: str = "/") -> dict:
        """The queue's full record (counters, type, leader, …)."""
        return self.get(api_path("queues", vhost, name),
                        missing=(f"RabbitMQ has no queue {name!r} in vhost {vhost!r}.",
                                 "Declare it first (channel.queue_declare)."))

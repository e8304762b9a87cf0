"""The management-API client's error policy, against a real local HTTP server (no broker)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from brokerlab.brokers.management import Management, api_path
from brokerlab.brokers.ports import is_free
from brokerlab.errors import BrokerlabError

ANSWERS = {"/api/overview": (200, {"rabbitmq_version": "3.10.8"}),
           "/api/nodes": (200, [{"running": True}, {"running": False}, {"running": True}]),
           "/api/queues/%2F/a%2Fb": (200, {"name": "a/b", "messages": 3}),
           "/api/broken": (200, "not json"), "/api/secret": (401, {}), "/api/fails": (500, {})}
DELETED: list[str] = []


class Handler(BaseHTTPRequestHandler):
    def _answer(self, status: int, body: object) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(*ANSWERS.get(self.path, (404, {"error": "Object Not Found"})))

    def do_DELETE(self) -> None:
        DELETED.append(self.path)
        self._answer(204 if self.path.endswith("/gone-now") else 404, "")

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def api():
    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Management(f"http://127.0.0.1:{server.server_port}/", timeout=2)
    server.shutdown()


def test_reads_answers_and_quotes_every_path_part(api):
    assert api_path("queues", "/", "a/b") == "/api/queues/%2F/a%2Fb"
    assert api.queue("a/b") == {"name": "a/b", "messages": 3}
    assert api.version() == "3.10.8" and api.running_nodes() == 2


def test_every_failure_is_a_clear_error_with_a_next_step(api):
    with pytest.raises(BrokerlabError, match="no queue 'nope' in vhost '/'") as missing:
        api.queue("nope")
    assert "queue_declare" in missing.value.fix
    with pytest.raises(BrokerlabError, match="refused user 'guest'"):
        api.get("/api/secret")
    with pytest.raises(BrokerlabError, match="answered badly"):
        api.get("/api/fails")
    with pytest.raises(BrokerlabError, match="answered badly"):
        api.get("/api/broken")
    assert api.answers("/api/fails") is None


def test_an_unreachable_api_says_so_and_readiness_checks_see_nothing():
    port = next(p for p in range(18000, 18100) if is_free(p))
    dead = Management(f"http://127.0.0.1:{port}", timeout=1)
    with pytest.raises(BrokerlabError, match="not reachable") as info:
        dead.get("/api/overview")
    assert "brokerlab status" in info.value.fix
    assert dead.version() is None and dead.running_nodes() == 0


def test_deleting_what_is_already_gone_is_fine(api):
    api.delete(api_path("queues", "/", "gone-now"))
    api.delete(api_path("queues", "/", "never-there"))
    assert DELETED[-2:] == ["/api/queues/%2F/gone-now", "/api/queues/%2F/never-there"]


def test_find_says_nothing_is_there_on_404_and_raises_on_every_other_failure(api):
    assert api.find("/api/queues/%2F/nope") is None
    assert api.find("/api/overview") == {"rabbitmq_version": "3.10.8"}
    with pytest.raises(BrokerlabError, match="answered badly"):
        api.find("/api/fails")

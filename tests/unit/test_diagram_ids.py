"""Mermaid ids made from broker names are valid; labels keep the real names (no broker needed)."""

from __future__ import annotations

import re

import IPython.display
import pytest

from brokerlab.brokers import management
from brokerlab.observe import diagrams

VALID_ID = re.compile(r"^[A-Za-z0-9_]+$")
# A node line: id followed by a shape opener and a quoted label, e.g. queue_x_1a2b3c[("…")]
NODE_LINE = re.compile(r'^\s*(?:subgraph\s+)?([^\s\[\](){}>"]+)\s*[\[({>]+\s*"')
LINK_LINE = re.compile(r"^\s*(\S+)\s+[-.=]+>?(?:\|\"[^\"]*\"\|)?\s+(\S+)\s*$")


def test_awkward_queue_name_gives_a_valid_id() -> None:
    ident = diagrams.node_id("queue", "a.b-c/d")
    assert VALID_ID.match(ident), ident


@pytest.mark.parametrize("name", ["", "end", "Orders", "orders", "a b", "ü/ß", "x" * 300, '"quoted"'])
def test_ids_are_valid_for_any_name(name: str) -> None:
    ident = diagrams.node_id("queue", name)
    assert VALID_ID.match(ident), ident
    assert ident != "end"  # a Mermaid keyword


def test_names_that_sanitise_alike_get_different_ids() -> None:
    names = ["a.b-c/d", "a_b_c_d", "a.b.c.d", "A.b-c/d"]
    assert len({diagrams.node_id("queue", n) for n in names}) == len(names)
    assert diagrams.node_id("queue", "x") != diagrams.node_id("exchange", "x")
    assert diagrams.node_id("queue", "a.b-c/d") == diagrams.node_id("queue", "a.b-c/d")  # stable


def test_labels_keep_real_names_but_escape_quotes() -> None:
    assert diagrams.label("a.b-c/d", "queue, classic") == "a.b-c/d<br>queue, classic"
    assert '"' not in diagrams.label('say "hi"')
    assert diagrams.label("orders.#") == "orders.#"  # topic patterns stay readable


def test_bindings_diagram_from_api_data_has_valid_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """rabbitmq_bindings over canned management-API answers: every id valid, names intact."""
    api = {
        "/api/exchanges/%2F": [{"name": "", "type": "direct"}, {"name": "amq.topic", "type": "topic"},
                               {"name": "p.ex/1", "type": "topic"}],
        "/api/bindings/%2F": [
            {"source": "p.ex/1", "destination": "a.b-c/d", "destination_type": "queue",
             "routing_key": "orders.*", "arguments": {}},
            {"source": "", "destination": "a.b-c/d", "destination_type": "queue",
             "routing_key": "a.b-c/d", "arguments": {}},
        ],
        "/api/queues/%2F": [{"name": "a.b-c/d", "type": "classic", "messages": 0}],
    }

    class Reply:
        def __init__(self, body: object) -> None:
            self.status_code, self._body = 200, body

        def raise_for_status(self) -> None:
            pass

        def json(self) -> object:
            return self._body

    def fake_request(method: str, url: str, **_: object) -> Reply:
        assert method == "GET"
        return Reply(api[url.removeprefix("http://mgmt")])

    monkeypatch.setattr(management.requests, "request", fake_request)
    source = diagrams.rabbitmq_bindings("http://mgmt", ("u", "p"), prefix="")
    body = source.split("flowchart", 1)[1].splitlines()[1:]
    ids = [m.group(1) for line in body if (m := NODE_LINE.match(line))]
    ids += [i for line in body if (m := LINK_LINE.match(line)) for i in m.groups()]
    assert ids and all(VALID_ID.match(i) for i in ids), ids
    assert "a.b-c/d" in source and "p.ex/1" in source and "orders.*" in source
    assert "amq.topic" not in source and "(default exchange)" not in source


def test_show_emits_the_mermaid_mime_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: seen.append((a, k)))
    diagrams.show("flowchart LR\n  a --> b\n")
    assert seen == [(({"text/vnd.mermaid": "flowchart LR\n  a --> b\n",
                       "text/plain": "flowchart LR\n  a --> b\n"},), {"raw": True})]

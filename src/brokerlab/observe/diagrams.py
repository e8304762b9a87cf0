"""Mermaid diagrams drawn from the live brokers (plumbing: the lessons show the client API).

Every function asks the running broker what exists *now* and returns Mermaid source built with
mermaid-py's offline builder classes (``FlowChart``, ``Node``, ``Link``). ``show`` hands that source
to JupyterLab 4, which renders the ``text/vnd.mermaid`` MIME type offline. Nothing here calls the
mermaid.ink web service (``mermaid.Mermaid``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import quote

import confluent_kafka
import pika
from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient
from mermaid.flowchart import FlowChart, Link, Node

from brokerlab.brokers.management import Management
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints
from brokerlab.settings import endpoints as current_endpoints

KAFKA_FIX = ("Start the brokers with `brokerlab up` (or `make up`) and check them with `brokerlab status`; "
             "on your own cluster check KAFKA_BOOTSTRAP_SERVERS.")
_NOT_ID = re.compile(r"[^A-Za-z0-9_]")
_ENTITY_LIKE = re.compile(r"#(?=\w*;)")


# --- Mermaid text helpers -------------------------------------------------------------------------

def node_id(kind: str, name: str) -> str:
    """A valid, unique, stable Mermaid id for a named thing: letters, digits and '_' only.

    ``kind`` keeps ids of different kinds apart (and away from keywords such as ``end``); a short
    hash of the exact name keeps ``a.b`` and ``a-b`` (or ``Orders`` and ``orders``) apart.
    """
    slug = _NOT_ID.sub("_", name)[:40].strip("_") or "empty"
    digest = hashlib.sha1(f"{kind}\0{name}".encode()).hexdigest()[:6]
    return f"{_NOT_ID.sub('_', kind)}_{slug}_{digest}".lower()


def label(*lines: object) -> str:
    """A node or link label: the real names, escaped for a quoted Mermaid label, one per line."""
    def escape(text: object) -> str:
        text = _ENTITY_LIKE.sub("#35;", str(text))  # a '#' that Mermaid would read as #code;
        return (text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
                .replace("\n", " "))
    return "<br>".join(escape(line) for line in lines if line is not None and line != "")


def _node(kind: str, name: str, *lines: object, shape: str = "normal") -> Node:
    return Node(node_id(kind, name), label(*lines) if lines else label(name), shape=shape)


def _group(kind: str, name: str, title: str, members: list[Node], direction: str = "TB") -> Node:
    return Node(node_id(kind, name), label(title), sub_nodes=members, direction=direction)


def _chart(title: str, nodes: list[Node], links: list[Link], orientation: str = "LR") -> str:
    # json.dumps gives a double-quoted YAML scalar: any name is safe in the front-matter title.
    return FlowChart(json.dumps(title, ensure_ascii=False), nodes, links, orientation=orientation).script


# --- Kafka ----------------------------------------------------------------------------------------

_UNREACHABLE = {KafkaError._TIMED_OUT, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN,
                KafkaError._RESOLVE, KafkaError._AUTHENTICATION, KafkaError._SSL}


def _kafka_call(future: Future, what: str, bootstrap: str, timeout: float) -> Any:
    """The future's result, or a BrokerlabError that says whether Kafka was unreachable or refused."""
    kafka = f"Kafka at {bootstrap}" if bootstrap else "Kafka"
    try:
        return future.result(timeout=timeout)
    except (FutureTimeout, TimeoutError):
        error: object = "timed out"
    except KafkaException as exc:
        error = exc.args[0] if exc.args else exc
    if isinstance(error, KafkaError) and error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
        raise BrokerlabError(f"{kafka}: {what}: the topic does not exist.",
                             "Create it first, or list topics with admin.list_topics().")
    if isinstance(error, KafkaError) and error.code() not in _UNREACHABLE:
        raise BrokerlabError(f"{kafka} refused to {what}: {error.str()}.",
                             "Check the name and your permissions (admin.list_topics() lists topics).")
    detail = error.str() if isinstance(error, KafkaError) else error
    raise BrokerlabError(f"{kafka} could not be reached ({what}): {detail}.", KAFKA_FIX)


def kafka_topic(admin: AdminClient, topic: str, timeout: float = 10.0) -> str:
    """Mermaid source: topic → its partitions → the leader broker (solid) and follower replicas
    (dotted), with the in-sync replica set, as the cluster reports them now."""
    # Refresh the client's view of the cluster first: DescribeTopics goes to the node the client
    # last knew as controller, and after a lab killed that node the request would wait for it.
    with contextlib.suppress(KafkaException):
        admin.list_topics(timeout=timeout)
    futures = admin.describe_topics(TopicCollection([topic]), request_timeout=timeout)
    description = _kafka_call(futures[topic], f"describe topic {topic!r}", "", timeout + 5)
    partitions = sorted(description.partitions, key=lambda p: p.id)
    replication = max((len(p.replicas) for p in partitions), default=0)

    topic_node = _node("topic", topic, f"topic {topic}",
                       f"{len(partitions)} partition(s), replication factor {replication}",
                       shape="stadium-shape")
    brokers: dict[int, Node] = {}
    for part in partitions:
        for broker in [part.leader, *part.replicas]:
            if broker is not None and broker.id not in brokers:
                # A broker that is down is still a replica, but the cluster knows no address for it.
                where = f"{broker.host}:{broker.port}" if broker.host else "offline (no address)"
                brokers[broker.id] = _node("broker", str(broker.id), f"broker {broker.id}", where)
    nodes: list[Node] = [topic_node]
    links: list[Link] = []
    for part in partitions:
        leader = part.leader.id if part.leader is not None else None
        isr = sorted(n.id for n in part.isr)
        pnode = _node("partition", f"{topic}\0{part.id}", f"partition {part.id}",
                      f"leader {leader if leader is not None else 'none (offline)'}",
                      f"ISR {isr}")
        nodes.append(pnode)
        links.append(Link(topic_node, pnode))
        if leader is not None:
            links.append(Link(pnode, brokers[leader], message="leader"))
        for replica in part.replicas:
            if replica.id != leader:
                in_sync = "in sync" if replica.id in isr else "NOT in sync"
                links.append(Link(pnode, brokers[replica.id], shape="dotted",
                                  message=f"follower, {in_sync}"))
    nodes.append(_group("brokers", topic, "brokers", list(brokers.values())))
    return _chart(f"Kafka topic {topic}", nodes, links)


# --- RabbitMQ management API ----------------------------------------------------------------------

def _get(management_url: str, path: str, auth: tuple[str, str], timeout: float = 3.0) -> Any:
    return Management(management_url, auth, timeout).get(
        path, missing=(f"RabbitMQ has no vhost for {path!r} (404).",
                       "List the vhosts at /api/vhosts; the default one is '/'."))


def rabbitmq_bindings(management_url: str, auth: tuple[str, str], vhost: str = "/", prefix: str = "",
                      include_builtin: bool = False, timeout: float = 3.0) -> str:
    """Mermaid source: exchanges → bindings (labelled with the routing key) → queues (or exchanges).

    Shows exchanges and queues whose name starts with ``prefix`` and every binding that touches
    one of them. The default exchange ("") and the ``amq.*`` exchanges are left out unless
    ``include_builtin``.
    """
    v = quote(vhost, safe="")
    exchanges = _get(management_url, f"/api/exchanges/{v}", auth, timeout)
    bindings = _get(management_url, f"/api/bindings/{v}", auth, timeout)
    queues = _get(management_url, f"/api/queues/{v}", auth, timeout)

    def builtin(name: str) -> bool:
        return name == "" or name.startswith("amq.")

    def wanted(name: str) -> bool:
        return name.startswith(prefix) and (include_builtin or not builtin(name))

    exchange_info = {e["name"]: e for e in exchanges}
    queue_info = {q["name"]: q for q in queues}

    def wanted_destination(b: dict) -> bool:
        if b["destination_type"] == "queue":  # server-named queues (amq.gen-…) are not built-ins
            return b["destination"].startswith(prefix)
        return wanted(b["destination"])

    shown = [b for b in bindings
             if (include_builtin or not builtin(b["source"]))
             and (wanted(b["source"]) or wanted_destination(b))]

    made: dict[tuple[str, str], Node] = {}

    def exchange_node(name: str) -> Node:
        if ("exchange", name) not in made:
            kind = exchange_info.get(name, {}).get("type", "?")
            made[("exchange", name)] = _node("exchange", name, "(default exchange)" if name == "" else name,
                                             f"exchange, {kind}", shape="hexagon")
        return made[("exchange", name)]

    def queue_node(name: str) -> Node:
        if ("queue", name) not in made:
            info = queue_info.get(name, {})
            kind = info.get("type", "classic")
            messages = info.get("messages")
            count = f"{messages} message(s)" if messages is not None else ""
            made[("queue", name)] = _node("queue", name, name, f"queue, {kind}", count,
                                          shape="cylindrical")
        return made[("queue", name)]

    for name in sorted(exchange_info):
        if wanted(name):
            exchange_node(name)
    for name in sorted(queue_info):
        if name.startswith(prefix):
            queue_node(name)

    links: list[Link] = []
    for b in sorted(shown, key=lambda b: (b["source"], b["destination"], b["routing_key"])):
        source = exchange_node(b["source"])
        target = (queue_node(b["destination"]) if b["destination_type"] == "queue"
                  else exchange_node(b["destination"]))
        key = b["routing_key"]
        if exchange_info.get(b["source"], {}).get("type") == "headers" and b.get("arguments"):
            pairs = ", ".join(f"{k}={v}" for k, v in sorted(b["arguments"].items()))
            message = label(f"headers {pairs}")
        elif exchange_info.get(b["source"], {}).get("type") == "fanout":
            message = label(f"key {key!r} (ignored: fanout)" if key else "(no key: fanout)")
        else:
            message = label(key) if key else label("(empty key)")
        links.append(Link(source, target, message=message))

    if not made:
        nothing = f"no exchanges or queues starting with {prefix!r}" if prefix else "no exchanges or queues"
        made[("none", "")] = _node("none", prefix, nothing)
    where = f"vhost {vhost}" + (f", names starting {prefix!r}" if prefix else "")
    return _chart(f"RabbitMQ bindings ({where})", list(made.values()), links)


# --- What is running ------------------------------------------------------------------------------

def _kernel_node() -> Node:
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:
        shell = None
    in_kernel = getattr(shell, "kernel", None) is not None
    return _node("client", "kernel", "JupyterLab kernel (this notebook)" if in_kernel else "Python client",
                 f"Python {platform.python_version()}, pid {os.getpid()}",
                 f"confluent-kafka {confluent_kafka.__version__} "
                 f"(librdkafka {confluent_kafka.libversion()[0]})",
                 f"pika {pika.__version__}", shape="stadium-shape")


def running_brokers(endpoints: Endpoints | None = None, timeout: float = 5.0) -> str:
    """Mermaid source: this kernel as the client of the Kafka cluster (id, brokers, controller)
    and of the RabbitMQ cluster (version, nodes with their running state and AMQP ports)."""
    ep = endpoints or current_endpoints()
    admin = AdminClient(ep.kafka_config(**{"socket.timeout.ms": int(timeout * 1000)}))
    cluster = _kafka_call(admin.describe_cluster(request_timeout=timeout), "describe cluster",
                          ep.kafka_bootstrap_servers, timeout + 5)
    overview = _get(ep.rabbitmq_management_url, "/api/overview", ep.management_auth, timeout)
    rabbit_nodes = _get(ep.rabbitmq_management_url, "/api/nodes", ep.management_auth, timeout)

    controller = cluster.controller.id if cluster.controller is not None else None
    brokers = [
        _node("kafka", str(n.id), f"broker {n.id}", f"{n.host}:{n.port}",
              "controller" if n.id == controller else "", f"rack {n.rack}" if n.rack else "")
        for n in sorted(cluster.nodes, key=lambda n: n.id)
    ]
    if controller is not None and controller not in {n.id for n in cluster.nodes}:
        brokers.append(_node("kafka", str(controller), f"controller {controller}"))
    kafka = _group("cluster", "kafka", f"Kafka cluster {cluster.cluster_id}", brokers)

    amqp_ports: dict[str, list[str]] = {}
    for listener in overview.get("listeners", []):
        if listener.get("protocol") in ("amqp", "amqp/ssl"):
            amqp_ports.setdefault(listener["node"], []).append(
                f"{listener['protocol']} :{listener['port']}")
    members = [
        _node("rabbit", n["name"], n["name"], "running" if n.get("running") else "NOT running",
              ", ".join(amqp_ports.get(n["name"], [])))
        for n in sorted(rabbit_nodes, key=lambda n: n["name"])
    ]
    rabbit_title = (f"RabbitMQ {overview.get('rabbitmq_version', '?')} cluster "
                    f"{overview.get('cluster_name', '')}").strip()
    rabbit = _group("cluster", "rabbitmq", rabbit_title, members)

    client = _kernel_node()
    amqp = pika.URLParameters(ep.rabbitmq_url)
    links = [
        Link(client, kafka, message=label("Kafka protocol", f"bootstrap {ep.kafka_bootstrap_servers}")),
        Link(client, rabbit, message=label("AMQP 0-9-1", f"{amqp.host}:{amqp.port}")),
        Link(client, rabbit, shape="dotted",
             message=label("HTTP management API", ep.rabbitmq_management_url)),
    ]
    return _chart("What is running", [client, kafka, rabbit], links)


def show(source: str) -> None:
    """Display Mermaid source in Jupyter: JupyterLab 4 renders ``text/vnd.mermaid`` offline;
    other front ends show the source text."""
    from IPython.display import display

    display({"text/vnd.mermaid": source, "text/plain": source}, raw=True)

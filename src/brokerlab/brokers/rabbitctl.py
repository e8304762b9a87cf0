"""Run the real ``rabbitmqctl`` (and its siblings ``rabbitmq-queues``, ``rabbitmq-diagnostics``)
against one of the course's own RabbitMQ nodes.

Some settings have no HTTP endpoint in the management API — the memory high watermark is one.
For those the labs call the CLI that ships with RabbitMQ, with the node's own environment
(``HOME`` holds its Erlang cookie, ``ERL_EPMD_PORT`` points at the course's private epmd), exactly
as an operator would on a server:

    from brokerlab.brokers import rabbitctl
    from brokerlab.brokers import native
    node = native.single().rabbit[0]
    rabbitctl.set_memory_watermark(node, 200 * 2**20)   # bytes, absolute
    rabbitctl.restore_memory_watermark(node)            # back to the configured limit

Each call starts an Erlang VM (1–2 s). Only the native backend has a node handle to call; for any
other backend the labs explain the step instead of running it.
"""

from __future__ import annotations

import subprocess

from brokerlab.brokers.rabbitmq_native import RabbitNode
from brokerlab.errors import BrokerlabError

TIMEOUT = 60.0


def call(node: RabbitNode, *args: str, tool: str = "rabbitmqctl",
         timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """``<tool> -n <node> <args…>`` (``rabbitmqctl``, ``rabbitmq-queues``, ``rabbitmq-diagnostics``)
    with the node's environment, whatever its exit code: some checks answer with it."""
    command = [*node.tool(tool), "-n", node.nodename, *args]
    try:
        return subprocess.run(command, env=node.environment(), capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BrokerlabError(f"{tool} {' '.join(args)} did not finish within {timeout:.0f} s.",
                             "Check the node with `brokerlab status`.") from None


def run(node: RabbitNode, *args: str, tool: str = "rabbitmqctl", timeout: float = TIMEOUT) -> str:
    """``<tool> -n <node> <args…>`` (see :func:`call`); returns its output, raises when it fails."""
    done = call(node, *args, tool=tool, timeout=timeout)
    if done.returncode != 0:
        raise BrokerlabError(
            f"{tool} {' '.join(args)} failed (exit {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-800:]}",
            "Check the node with `brokerlab status`; start it with `brokerlab up`.")
    return done.stdout


def set_memory_watermark(node: RabbitNode, limit_bytes: int) -> None:
    """Set the node's memory high watermark to an absolute number of bytes (until it restarts)."""
    if limit_bytes < 16 * 2**20:
        raise BrokerlabError(f"A watermark of {limit_bytes} bytes is too low to be useful.",
                             "Use at least 16 MiB.")
    run(node, "set_vm_memory_high_watermark", "absolute", str(int(limit_bytes)))


def restore_memory_watermark(node: RabbitNode) -> int:
    """Put the watermark back to what the course configured for this node; returns it in bytes."""
    limit = node.memory_limit_mib * 2**20
    run(node, "set_vm_memory_high_watermark", "absolute", str(limit))
    return limit

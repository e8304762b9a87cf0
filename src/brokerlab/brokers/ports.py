"""TCP port checks: is a port free to bind, is something accepting on it."""

from __future__ import annotations

import socket
from collections.abc import Iterable

from brokerlab.errors import BrokerlabError


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` and we could bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return not is_open(port, host)


def is_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_free(ports: Iterable[tuple[str, int]], option_hint: str) -> None:
    """Raise a clear error naming every busy port and how to pick others."""
    busy = [(label, port) for label, port in ports if not is_free(port)]
    if busy:
        names = ", ".join(f"{port} ({label})" for label, port in busy)
        raise BrokerlabError(
            f"Port(s) already in use by another process: {names}.",
            f"Find the owner with `ss -ltnp | grep :{busy[0][1]}` and stop it, or choose other "
            f"ports: {option_hint}",
        )

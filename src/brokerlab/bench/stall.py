"""A real stall in the middle of a measured window: freeze the broker (SIGSTOP) for a moment.

Used by lesson 07 to show coordinated omission with real processes: a publisher whose confirm
window fills up stops sending while the broker is frozen, so the messages it *should* have sent
leave late — their latency from the actual send time looks fine, from the intended time it does
not. Works on the course's native brokers only (it needs the broker's processes).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from brokerlab.bench.procs import Window
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints


def freeze_hook(ep: Endpoints, system: str, seconds: float,
                at_fraction: float = 0.3) -> Callable[[Window], None]:
    """A ``during`` hook: ``at_fraction`` into the window, freeze ``system``'s broker ``seconds``."""
    if ep.source != "native":
        raise BrokerlabError("Freezing a broker needs the course's native brokers (`brokerlab up`).",
                             "Skip this demonstration on other clusters.")
    from brokerlab.brokers import native

    deployment = native.single()
    node = deployment.kafka[0] if system == "kafka" else deployment.rabbit[0]

    def hook(window: Window) -> None:
        time.sleep(max(0.0, window.duration_s * at_fraction))
        node.pause()
        try:
            time.sleep(seconds)
        finally:
            node.resume()  # always: a frozen broker must never outlive the cell

    return hook

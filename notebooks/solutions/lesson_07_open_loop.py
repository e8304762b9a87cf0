"""Reference solution for notebook 07's exercise: an open-loop publisher that keeps its schedule."""

import struct
import time


def open_loop_publish(channel, queue: str, rate: float, count: int) -> None:
    """Publish `count` messages to `queue` at `rate` per second, each stamped with its intended time."""
    interval_ns = 1e9 / rate
    start = time.monotonic_ns()
    for i in range(count):
        intended = start + round(i * interval_ns)  # when message i is due, whatever happened before
        now = time.monotonic_ns()
        if now < intended:
            time.sleep((intended - now) / 1e9)  # early: wait until it is due
        # late (after a stall): send at once, still stamped with the time it SHOULD have gone
        channel.basic_publish(exchange="", routing_key=queue, body=struct.pack(">q", intended))

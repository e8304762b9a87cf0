"""Checker for notebook 07's exercise: an open-loop publisher that keeps its schedule.

The learner writes ``open_loop_publish(channel, queue, rate, count)``: publish ``count`` messages
with ``channel.basic_publish`` at a fixed ``rate``. Message ``i`` is due at
``start + i * 1e9 / rate`` (``start = time.monotonic_ns()`` when the function begins); its body is
that *intended* time as 8 bytes, big-endian (``struct.pack(">q", intended_ns)``). Sleep until each
message is due; when late, send at once — never skip, never shift the schedule.

The checker passes a real pika channel wrapped so that one ``basic_publish`` stalls for
:data:`STALL_S` (a GC pause, a broker hiccup). A correct sender catches up after it and keeps the
stamps on schedule; a sender that stamps the actual send time, or paces itself with a fixed
``sleep(1 / rate)`` after each message, drifts — exactly the coordinated omission lesson 07 is about.
"""

from __future__ import annotations

import contextlib
import itertools
import struct
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pika

from brokerlab.course.checks import CheckResult, Feedback
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints, amqp_parameters, endpoints, ns

EXERCISE = "lesson_07_open_loop"
RATE = 500
COUNT = 300
STALL_AT = 60
STALL_S = 0.4
TOLERANCE_NS = 2_000  # rounding of start + i * 1e9 / rate
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."


class StallingChannel:
    """A pika channel whose ``basic_publish`` number :data:`STALL_AT` sleeps for :data:`STALL_S`."""

    def __init__(self, channel: Any) -> None:
        self._channel = channel
        self.published = 0
        self.times: list[int] = []  # time.monotonic_ns() of every hand-over, after any stall

    def basic_publish(self, *args: Any, **kwargs: Any) -> None:
        self.published += 1
        if self.published == STALL_AT:
            time.sleep(STALL_S)
        self.times.append(time.monotonic_ns())
        self._channel.basic_publish(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._channel, name)


def judge(fb: Feedback, bodies: list[bytes], elapsed_s: float, rate: float = RATE,
          count: int = COUNT, sent_at: list[int] | None = None) -> None:
    """Count, format, schedule and pacing, each with its own hint. ``sent_at``: when each message
    was handed to ``basic_publish`` (monotonic ns), to catch messages sent before they were due."""
    schedule_s = (count - 1) / rate
    if len(bodies) != count:
        fb.expect(False, "", f"The queue got {len(bodies)} messages; expected {count}. Publish every "
                             "message once — never skip one because you are late.")
        return
    fb.expect(True, f"All {count} messages arrived.", "")
    if any(len(b) != 8 for b in bodies):
        sizes = sorted({len(b) for b in bodies})
        fb.expect(False, "", f"Each body must be exactly 8 bytes (struct.pack('>q', intended_ns)); got "
                             f"sizes {sizes[:5]}.")
        return
    stamps = [struct.unpack(">q", b)[0] for b in bodies]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    interval = 1e9 / rate
    off = [g for g in gaps if abs(g - interval) > TOLERANCE_NS]
    if not off:
        fb.expect(True, f"Every stamp is exactly 1/rate = {interval / 1e6:.1f} ms after the previous "
                        "one: you stamp the intended time.", "")
    elif max(gaps) >= STALL_S * 1e9 * 0.5:
        fb.expect(False, "", f"One gap between stamps is {max(gaps) / 1e6:.0f} ms — the checker's "
                             f"{STALL_S * 1000:.0f} ms stall shows in your timestamps. You stamp the "
                             "ACTUAL send time (or shift the schedule when late). Stamp the intended "
                             "time start + i * 1e9 / rate, so messages that should have gone during a "
                             "stall are charged for waiting.")
    else:
        fb.expect(False, "", f"{len(off)} of {len(gaps)} gaps between stamps differ from 1/rate = "
                             f"{interval / 1e6:.1f} ms (e.g. {off[0] / 1e6:.3f} ms). Compute each stamp "
                             "from the schedule (start + i * 1e9 / rate), not from the clock at send "
                             "time.")
    early = sum(1 for t, due in zip(sent_at or [], stamps, strict=False) if t < due - 1_000_000)
    if early > count // 20 or elapsed_s < schedule_s * 0.95:
        fb.expect(False, "", f"{early} of {count} messages were sent more than 1 ms before they were "
                             f"due, and your function returned after {elapsed_s:.2f} s although {count} "
                             f"messages at {rate:.0f}/s take {schedule_s:.2f} s. Sleep until each "
                             "message is due (time.sleep(max(0, intended - now) / 1e9)).")
    elif elapsed_s > schedule_s + STALL_S / 2:
        fb.expect(False, "", f"Your function took {elapsed_s:.2f} s for a {schedule_s:.2f} s schedule: "
                             f"after the {STALL_S * 1000:.0f} ms stall it never caught up. Sleeping a "
                             "fixed 1/rate after each send shifts the whole schedule; sleep until the "
                             "next intended time instead, and send at once when it has passed.")
    else:
        fb.expect(True, f"It kept the schedule: {elapsed_s:.2f} s for {schedule_s:.2f} s of messages, "
                        f"despite a {STALL_S * 1000:.0f} ms stall.", "")


def check_open_loop(fn: Callable[[Any, str, float, int], None], ep: Endpoints | None = None,
                    timeout: float = 20.0) -> CheckResult:
    """Run ``fn(channel, queue, RATE, COUNT)`` on a fresh queue with one stall; read the queue back."""
    ep = ep or endpoints()
    fb = Feedback(EXERCISE)
    queue = ns(f"exercise-open-loop-{uuid.uuid4().hex[:8]}")
    try:
        connection = pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, timeout=10))
    except pika.exceptions.AMQPError as exc:
        raise BrokerlabError(f"The checker could not connect to RabbitMQ: {exc!r}", FIX) from None
    try:
        channel = connection.channel()
        channel.queue_declare(queue)
        box: dict[str, Any] = {}

        wrapped = StallingChannel(channel)

        def run() -> None:
            try:
                box["value"] = fn(wrapped, queue, RATE, COUNT)
            except BaseException as exc:  # replayed below through fb.call
                box["error"] = exc

        t0 = time.monotonic()
        thread = threading.Thread(target=run, name="open_loop_publish", daemon=True)
        thread.start()
        thread.join(timeout)
        elapsed = time.monotonic() - t0
        if thread.is_alive():
            fb.expect(False, "", f"Your function did not return within {timeout:.0f} s ({COUNT} messages "
                                 f"at {RATE}/s take {(COUNT - 1) / RATE:.1f} s). Check your sleep units: "
                                 "nanoseconds / 1e9 = seconds.")
            return fb.result()

        def replay() -> Any:
            if "error" in box:
                raise box["error"]
            return box.get("value")

        ok, _ = fb.call(replay)
        if ok:
            bodies = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                method, _props, body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    if len(bodies) >= COUNT:
                        break
                    connection.sleep(0.05)
                    if channel.queue_declare(queue, passive=True).method.message_count == 0 \
                            and len(bodies) > 0:
                        break
                    continue
                bodies.append(body)
            judge(fb, bodies, elapsed, sent_at=wrapped.times)
    finally:
        with contextlib.suppress(pika.exceptions.AMQPError):
            channel = connection.channel()
            channel.queue_delete(queue)
        with contextlib.suppress(pika.exceptions.AMQPError):
            connection.close()
    return fb.result()

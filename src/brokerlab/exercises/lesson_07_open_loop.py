"""Checker for notebook 07's exercise: an open-loop publisher that keeps its schedule.

The learner writes ``open_loop_publish(channel, queue, rate, count)``: publish ``count`` messages
with ``channel.basic_publish`` at a fixed ``rate``. Message ``i`` is due at
``start + i * 1e9 / rate`` (``start = time.monotonic_ns()`` when the function begins); its body is
that *intended* time as 8 bytes, big-endian (``struct.pack(">q", intended_ns)``). Sleep until each
message is due; when late, send at once — never skip, never shift the schedule.

Each attempt draws a fresh scenario from a seed the checker prints: the rate, the count, which
``basic_publish`` stalls and for how long. The checker passes a real pika channel wrapped so that
that one call stalls (a GC pause, a broker hiccup). A correct sender catches up after it and keeps
the stamps on schedule; a sender that stamps the actual send time, or paces itself with a fixed
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
from dataclasses import dataclass
from typing import Any

import pika

from brokerlab.course.checkpoints import Checkpoint
from brokerlab.course.checks import CheckResult, Feedback, is_reference
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import seeds
from brokerlab.settings import Endpoints, amqp_parameters, endpoints, ns

EXERCISE = "lesson_07_open_loop"
TOLERANCE_NS = 2_000  # rounding of start + i * 1e9 / rate
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the cell again."

CHECKPOINTS = (
    Checkpoint(
        "lesson_07_checkpoint_coordinated_omission",
        "A publisher with at most 10 unconfirmed messages sends 1000 msg/s; the broker freezes for "
        "300 ms. Measured from each message's ACTUAL send time, what does the p99 show?",
        frozenset({"a"}),
        "The window fills within milliseconds and the publisher stops: the ~300 messages due during "
        "the freeze leave late, after it, and look fast from their actual send time. Only the few "
        "already in flight show the stall. Measured from the intended time, they waited.",
        "Ask when the messages that were due during the freeze actually left.",
        {"a": "Hardly anything: the messages due during the freeze are sent after it and look fast",
         "b": "About 300 ms, because every message waited for the broker",
         "c": "Nothing at all: the publisher drops the messages that are late"}),
)


@dataclass(frozen=True)
class Scenario:
    """One attempt: ``count`` messages at ``rate`` per second; publish number ``stall_at`` stalls
    for ``stall_s`` seconds."""

    seed: int
    rate: int
    count: int
    stall_at: int
    stall_s: float

    def __str__(self) -> str:
        return (f"scenario seed {self.seed}: {self.count} messages at {self.rate}/s, one "
                f"basic_publish stalls for {self.stall_s * 1000:.0f} ms")


def scenario(seed: int | None = None) -> Scenario:
    """The scenario of one attempt: drawn from ``seed`` (a fresh seed when None)."""
    seed, rng = seeds.draw(EXERCISE, seed)
    # 5-10 ms between messages: a correct sender's catch-up burst after the stall (a fraction of a
    # millisecond per basic_publish) stays short of the judged margin (half the stall) even on a
    # slow, busy machine, where 400-600/s left a correct sender no time to catch up.
    rate = rng.randrange(100, 201, 10)
    count = round(rate * rng.uniform(0.7, 0.9))  # a schedule of 0.7-0.9 s
    # The stall starts 0.08-0.15 s in and ends before the schedule does, so a correct sender has
    # time left to catch up (as much as the exercise always gave it).
    return Scenario(seed, rate, count, stall_at=round(rate * rng.uniform(0.08, 0.15)),
                    stall_s=rng.randrange(300, 451, 25) / 1000)


class StallingChannel:
    """A pika channel whose ``basic_publish`` number ``stall_at`` sleeps for ``stall_s``."""

    def __init__(self, channel: Any, stall_at: int, stall_s: float) -> None:
        self._channel = channel
        self.stall_at, self.stall_s = stall_at, stall_s
        self.published = 0
        self.times: list[int] = []  # time.monotonic_ns() of every hand-over, after any stall

    def basic_publish(self, *args: Any, **kwargs: Any) -> None:
        self.published += 1
        if self.published == self.stall_at:
            time.sleep(self.stall_s)
        self.times.append(time.monotonic_ns())
        self._channel.basic_publish(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._channel, name)


def judge(fb: Feedback, bodies: list[bytes], elapsed_s: float, s: Scenario,
          sent_at: list[int] | None = None) -> None:
    """Count, format, schedule and pacing, each with its own hint. ``sent_at``: when each message
    was handed to ``basic_publish`` (monotonic ns), to catch messages sent before they were due."""
    rate, count, stall_s = s.rate, s.count, s.stall_s
    schedule_s = (count - 1) / rate
    if len(bodies) != count:
        fb.expect(False, "", f"The queue got {len(bodies)} of the {count} messages you were asked to "
                             "publish. Publish every message once — never skip one because you are "
                             "late.")
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
    elif max(gaps) >= stall_s * 1e9 * 0.5:
        fb.expect(False, "", f"One gap between stamps is {max(gaps) / 1e6:.0f} ms — the checker's "
                             f"{stall_s * 1000:.0f} ms stall shows in your timestamps. You stamp the "
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
    elif elapsed_s > schedule_s + stall_s / 2:
        fb.expect(False, "", f"Your function took {elapsed_s:.2f} s for a {schedule_s:.2f} s schedule: "
                             f"after the {stall_s * 1000:.0f} ms stall it never caught up. Sleeping a "
                             "fixed 1/rate after each send shifts the whole schedule; sleep until the "
                             "next intended time instead, and send at once when it has passed.")
    else:
        fb.expect(True, f"It kept the schedule: {elapsed_s:.2f} s for {schedule_s:.2f} s of messages, "
                        f"despite a {stall_s * 1000:.0f} ms stall.", "")


def check_open_loop(fn: Callable[[Any, str, float, int], None], ep: Endpoints | None = None,
                    timeout: float = 20.0, seed: int | None = None) -> CheckResult:
    """Run ``fn(channel, queue, rate, count)`` on a fresh scenario and queue with one stall; read
    the queue back and judge."""
    ep = ep or endpoints()
    s = scenario(seed)
    print(s)
    fb = Feedback(EXERCISE, record=not is_reference(fn))  # the checker wraps fn: decide here
    queue = ns(f"exercise-open-loop-{uuid.uuid4().hex[:8]}")
    try:
        connection = pika.BlockingConnection(amqp_parameters(ep.rabbitmq_url, timeout=10))
    except pika.exceptions.AMQPError as exc:
        raise BrokerlabError(f"The checker could not connect to RabbitMQ: {exc!r}", FIX) from None
    try:
        channel = connection.channel()
        channel.queue_declare(queue)
        box: dict[str, Any] = {}

        wrapped = StallingChannel(channel, s.stall_at, s.stall_s)

        def run() -> None:
            try:
                box["value"] = fn(wrapped, queue, s.rate, s.count)
            except BaseException as exc:  # replayed below through fb.call
                box["error"] = exc

        t0 = time.monotonic()
        thread = threading.Thread(target=run, name="open_loop_publish", daemon=True)
        thread.start()
        thread.join(timeout)
        elapsed = time.monotonic() - t0
        if thread.is_alive():
            fb.expect(False, "", f"Your function did not return within {timeout:.0f} s ({s.count} "
                                 f"messages at {s.rate}/s take {(s.count - 1) / s.rate:.1f} s). Check your "
                                 "sleep units: nanoseconds / 1e9 = seconds.")
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
                    if len(bodies) >= s.count:
                        break
                    connection.sleep(0.05)
                    if channel.queue_declare(queue, passive=True).method.message_count == 0 \
                            and len(bodies) > 0:
                        break
                    continue
                bodies.append(body)
            judge(fb, bodies, elapsed, s, sent_at=wrapped.times)
    finally:
        with contextlib.suppress(pika.exceptions.AMQPError):
            channel = connection.channel()
            channel.queue_delete(queue)
        with contextlib.suppress(pika.exceptions.AMQPError):
            connection.close()
    return fb.result()

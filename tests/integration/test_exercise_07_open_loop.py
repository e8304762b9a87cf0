"""Notebook 07's open-loop checker rejects plausible wrong answers with the right hint and
accepts the reference solution, on the live RabbitMQ (with the checker's 400 ms stall)."""

import struct
import time

import pytest

from brokerlab.course import checks
from brokerlab.exercises import lesson_07_open_loop as open_loop

pytestmark = pytest.mark.integration


def stamps_actual_time(channel, queue, rate, count):
    """Paces well, but stamps the clock at send time."""
    start = time.monotonic_ns()
    for i in range(count):
        due = start + round(i * 1e9 / rate)
        now = time.monotonic_ns()
        if now < due:
            time.sleep((due - now) / 1e9)
        channel.basic_publish(exchange="", routing_key=queue, body=struct.pack(">q", time.monotonic_ns()))


def no_pacing(channel, queue, rate, count):
    """Right stamps, but everything goes out at once."""
    start = time.monotonic_ns()
    for i in range(count):
        channel.basic_publish(exchange="", routing_key=queue,
                              body=struct.pack(">q", start + round(i * 1e9 / rate)))


def fixed_sleep(channel, queue, rate, count):
    """Right stamps, paced by sleeping 1/rate after each send: drifts after the stall."""
    start = time.monotonic_ns()
    for i in range(count):
        channel.basic_publish(exchange="", routing_key=queue,
                              body=struct.pack(">q", start + round(i * 1e9 / rate)))
        time.sleep(1 / rate)


def skips_late_ones(channel, queue, rate, count):
    """Drops the messages whose time has passed, to 'stay on schedule'."""
    start = time.monotonic_ns()
    for i in range(count):
        due = start + round(i * 1e9 / rate)
        now = time.monotonic_ns()
        if now > due + 5_000_000:
            continue
        if now < due:
            time.sleep((due - now) / 1e9)
        channel.basic_publish(exchange="", routing_key=queue, body=struct.pack(">q", due))


@pytest.mark.parametrize(("fn", "hint"), [
    (stamps_actual_time, "ACTUAL send time"),
    (no_pacing, "Sleep until each message is due"),
    (fixed_sleep, "never caught up"),
    (skips_late_ones, "never skip one"),
])
def test_wrong_answers_get_their_hint(brokers, fn, hint):
    result = open_loop.check_open_loop(fn, brokers)
    assert not result.passed
    assert any(hint in line for line in result.feedback), result


def test_reference_solution_passes(brokers):
    reference = checks.load_solution("lesson_07_open_loop")
    result = open_loop.check_open_loop(reference.open_loop_publish, brokers)
    assert result.passed, result


def test_judge_without_a_broker():
    fb = checks.Feedback("t")
    interval = 1e9 / open_loop.RATE
    bodies = [struct.pack(">q", round(i * interval)) for i in range(open_loop.COUNT)]
    open_loop.judge(fb, bodies, elapsed_s=(open_loop.COUNT - 1) / open_loop.RATE)
    assert fb.failed == 0 and len(fb.lines) == 3

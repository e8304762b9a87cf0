"""Notebook 07's open-loop checker, on the live RabbitMQ (with the checker's stall): each attempt
draws a fresh scenario, plausible wrong answers get their hint, answers fitted to another scenario
or that skip the broker are rejected, and correct variants pass."""

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


def catches_up_with_a_deadline_loop(channel, queue, rate, count):
    """Correct in another style: busy-waits in short sleeps, schedule from perf_counter_ns."""
    start = time.monotonic_ns()
    for i in range(count):
        due = start + round(i * 1e9 / rate)
        while time.monotonic_ns() < due:
            time.sleep(0.0005)
        channel.basic_publish(exchange="", routing_key=queue, body=struct.pack(">q", due))


@pytest.mark.parametrize("seed", [1, 2])
def test_correct_variants_pass(brokers, seed):
    reference = checks.load_solution("lesson_07_open_loop")
    result = open_loop.check_open_loop(reference.open_loop_publish, brokers, seed=seed)
    assert result.passed, result
    assert open_loop.EXERCISE not in checks.progress(), "a reference run must not count as the learner's"
    result = open_loop.check_open_loop(catches_up_with_a_deadline_loop, brokers, seed=seed + 10)
    assert result.passed, result
    assert checks.progress()[open_loop.EXERCISE]["passed"] is True


def test_each_attempt_draws_a_fresh_scenario_from_a_printed_seed(brokers, capsys):
    a, b = open_loop.scenario(31), open_loop.scenario(32)
    assert a != b and open_loop.scenario(31) == a
    open_loop.check_open_loop(lambda channel, queue, rate, count: None, brokers, seed=31)
    assert str(a) in capsys.readouterr().out


def test_an_answer_fitted_to_another_scenario_is_rejected(brokers):
    first, second = open_loop.scenario(41), open_loop.scenario(42)
    assert (first.rate, first.count) != (second.rate, second.count)
    reference = checks.load_solution("lesson_07_open_loop")

    def fitted(channel, queue, _rate, _count):  # the previous scenario's numbers, written in
        reference.open_loop_publish(channel, queue, first.rate, first.count)

    result = open_loop.check_open_loop(fitted, brokers, seed=42)
    assert not result.passed, result


def test_an_answer_that_never_publishes_is_rejected(brokers):
    result = open_loop.check_open_loop(lambda channel, queue, rate, count: None, brokers)
    assert not result.passed and any("The queue got 0 of the" in line for line in result.feedback)


def test_a_function_that_raises_gets_the_last_line_and_a_hint(brokers):
    def crashes(channel, queue, rate, count):
        channel.basic_publish(exchange="", routing_key=queue, body=struct.pack(">q", "late"))

    result = open_loop.check_open_loop(crashes, brokers)
    assert not result.passed and "Your function raised" in result.feedback[0], result


def test_judge_without_a_broker():
    s = open_loop.scenario(7)
    fb = checks.Feedback("t", record=False)
    interval = 1e9 / s.rate
    bodies = [struct.pack(">q", round(i * interval)) for i in range(s.count)]
    open_loop.judge(fb, bodies, elapsed_s=(s.count - 1) / s.rate, s=s)
    assert fb.failed == 0 and len(fb.lines) == 3

"""Exercise 04 — a RabbitMQ consumer that is at-least-once AND idempotent, checked by killing it.

The learner writes ``handle(channel, method, properties, body, db)``: one payment message in, one
row in the ``payments`` table out, then ``channel.basic_ack``. The checker publishes payments with
``message_id`` set, runs the learner's ``handle`` in a separate worker process and kills that
process twice with SIGKILL at points chosen to catch the two classic mistakes:

Each attempt draws a fresh scenario from a seed the checker prints: how many payments, their ids,
accounts and amounts, and at which ack each kill falls.

1. **before an ack** — the payment is committed, the ack is never sent, RabbitMQ redelivers the
   message: a consumer that does not de-duplicate pays it twice;
2. **right after an ack** — the ack has reached the broker (a synchronous round trip on the same
   channel proves it), the payment may not be committed yet: a consumer that acks before
   processing loses it.

A third run drains the queue without a crash. The checker then counts the rows per message id:
every id must have exactly one payment with the right account and amount.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pika

from brokerlab.course import checks
from brokerlab.course.checkpoints import Checkpoint
from brokerlab.errors import BrokerlabError
from brokerlab.exercises import seeds
from brokerlab.observe import queuestats, workers
from brokerlab.settings import Endpoints, amqp_parameters, endpoints, ns

EXERCISE = "lesson_04_idempotent_consumer"
PREFETCH = 5
SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (message_id TEXT, account TEXT, amount INTEGER);
CREATE TABLE IF NOT EXISTS processed (message_id TEXT PRIMARY KEY);
"""
CHECKPOINTS = (
    Checkpoint(
        "lesson_04_checkpoint_commit_first",
        "A Kafka consumer commits each record's offset, then processes it. It is killed between the "
        "two at record #13. What happens to record #13?",
        frozenset({"a"}),
        "Lost: the group's committed offset already says 'continue after #13', so the restarted "
        "consumer never sees it. Commit first = at-most-once.",
        "After the restart, where does the group's committed offset tell the consumer to start?",
        {"a": "it is lost: never processed", "b": "it is processed twice", "c": "it is processed once"}),
    Checkpoint(
        "lesson_04_checkpoint_acks_all",
        "The producer used acks=all. Does that make the consumer at-least-once?",
        frozenset({"b"}),
        "No: acks=all is about the write (every in-sync replica has it before the broker confirms). "
        "When the consumer commits or acks decides loss or duplicates.",
        "Section 1's producer used acks=all too: what happened to m13 there?",
        {"a": "yes: every record is then delivered at least once",
         "b": "no: it makes the write durable; the consumer's commit/ack order decides delivery",
         "c": "only with enable.idempotence=True as well"}),
)
FIX = "Check the brokers with `brokerlab status` (start them with `brokerlab up`), then run the check again."


def create_store(path: Path) -> None:
    """The learner's database: ``payments`` (the effect; no unique key) and ``processed`` (for ids)."""
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
    db.close()


def payments_per_id(path: Path) -> dict[str, list[tuple[str, int]]]:
    """Every payment row, grouped by message id: ``{id: [(account, amount), ...]}``."""
    rows: dict[str, list[tuple[str, int]]] = {}
    db = sqlite3.connect(path)
    try:
        for message_id, account, amount in db.execute("SELECT message_id, account, amount FROM payments"):
            rows.setdefault(str(message_id), []).append((account, amount))
    finally:
        db.close()
    return rows


class _CrashingChannel:
    """The real pika channel, except that ``basic_ack`` can kill the process just before or after."""

    def __init__(self, channel: Any, events: workers.Ledger, crash: tuple[str, int] | None) -> None:
        self._channel = channel
        self._events = events
        self._crash = crash
        self._acks = 0
        self.tags: dict[int, str] = {}  # delivery tag → message id, filled by the consume loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._channel, name)

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        self._acks += 1
        message_id = self.tags.get(delivery_tag, "?")
        if self._crash == ("before-ack", self._acks):
            self._events.record(f"killed-before-ack:{message_id}")
            workers.crash()  # the payment may be committed, the ack is never sent
        self._channel.basic_ack(delivery_tag=delivery_tag, multiple=multiple)
        acked = [m for t, m in self.tags.items() if t == delivery_tag or (multiple and t <= delivery_tag)]
        for acked_id in acked:
            self._events.record(f"ack:{acked_id}")
        if self._crash == ("after-ack", self._acks):
            # Basic.Qos waits for Qos-Ok; the broker handles a channel's frames in order, so the ack
            # above has been processed before the reply arrives. Then die before handle() goes on.
            self._channel.basic_qos(prefetch_count=PREFETCH)
            self._events.record(f"killed-after-ack:{message_id}")
            workers.crash()


def _consume(handle: Callable[..., Any], url: str, queue: str, db_path: str, events_path: str,
             crash: tuple[str, int] | None, idle: float, deadline_s: float) -> None:
    """Worker body: consume ``queue`` with the learner's ``handle`` until idle, the deadline or a crash."""
    events = workers.Ledger(Path(events_path))
    deadline = time.monotonic() + deadline_s
    db = sqlite3.connect(db_path, timeout=5)
    with pika.BlockingConnection(amqp_parameters(url)) as connection:
        channel = connection.channel()
        channel.basic_qos(prefetch_count=PREFETCH)
        proxy = _CrashingChannel(channel, events, crash)
        for method, properties, body in channel.consume(queue, inactivity_timeout=idle):
            if method is None or time.monotonic() > deadline:
                break
            message_id = properties.message_id or "?"
            proxy.tags[method.delivery_tag] = message_id
            events.record(f"delivered:{message_id}:{int(method.redelivered)}")
            try:
                handle(proxy, method, properties, body, db)
            except NotImplementedError:
                events.record("not-implemented")
                return
            except Exception as exc:  # the learner's code: report it, stop this run
                traceback.print_exc()
                print(f"HANDLE-RAISED {type(exc).__name__}: {exc}", flush=True)
                events.record("raised")
                return
        channel.cancel()
    db.close()


def scenario(seed: int) -> tuple[dict[str, tuple[str, int]], list[tuple[str, int] | None]]:
    """One attempt's payments ``{id: (account, amount)}`` (16–28 of them, random ids, accounts and
    amounts) and its kill plan: before the k-th ack of run 1, after the j-th ack of run 2, then a
    run that drains the queue."""
    rng = random.Random(seed)
    payments: dict[str, tuple[str, int]] = {}
    count = rng.randint(16, 28)
    while len(payments) < count:
        payments[f"pay-{rng.randbytes(3).hex()}"] = (f"acct-{rng.randint(100, 999)}", rng.randint(1, 999))
    plan: list[tuple[str, int] | None] = [("before-ack", rng.randint(2, 6)),
                                          ("after-ack", rng.randint(2, 5)), None]
    return payments, plan



def _publish(url: str, queue: str, payments: dict[str, tuple[str, int]]) -> None:
    """Declare ``queue`` and publish ``payments`` with confirms, ``message_id`` set on each."""
    with pika.BlockingConnection(amqp_parameters(url)) as connection:
        channel = connection.channel()
        # x-expires: the broker deletes the queue 10 minutes after its last use, even if we crash.
        channel.queue_declare(queue, arguments={"x-expires": 600_000})
        channel.confirm_delivery()
        for message_id, (account, amount) in payments.items():
            body = json.dumps({"account": account, "amount": amount}).encode()
            channel.basic_publish("", queue, body, pika.BasicProperties(message_id=message_id,
                                                                        content_type="application/json"))


def _wait_until_released(url: str, queue: str, timeout: float = 10.0) -> None:
    """Wait until no consumer is attached: RabbitMQ has noticed the dead one and requeued its messages."""
    with pika.BlockingConnection(amqp_parameters(url)) as connection, contextlib.suppress(BrokerlabError):
        queuestats.ready_once_released(connection.channel(), queue, timeout)


def _queue_depth_and_delete(url: str, queue: str) -> int:
    with pika.BlockingConnection(amqp_parameters(url)) as connection:
        channel = connection.channel()
        depth = channel.queue_declare(queue, passive=True).method.message_count
        channel.queue_delete(queue)
    return depth


def _raised_message(output: str) -> str:
    """The learner's exception and where it happened, from the worker's printed traceback."""
    lines = output.splitlines()
    raised = [i for i, line in enumerate(lines) if line.startswith("HANDLE-RAISED ")]
    if not raised:
        return "an exception"
    message = lines[raised[-1]].removeprefix("HANDLE-RAISED ")
    frames = [i for i, line in enumerate(lines[:raised[-1]]) if line.strip().startswith('File "')]
    if frames:
        where = lines[frames[-1]].strip()
        code = lines[frames[-1] + 1].strip() if frames[-1] + 1 < raised[-1] else ""
        message += f" ({where}{': ' + code if code else ''})"
    return message


def check_idempotent_consumer(handle: Callable[..., Any], ep: Endpoints | None = None,
                              seed: int | None = None) -> checks.CheckResult:
    """Run ``handle`` in a worker, SIGKILL it before an ack and after an ack, restart it, count effects.

    Passes when every published ``message_id`` has exactly one payment row with the right account
    and amount, the queue is empty at the end, and the consumer really was killed twice. Each
    attempt draws a fresh scenario (``seed`` replays one); a reference solution is never recorded.
    """
    fb = checks.Feedback(EXERCISE, record=not checks.is_reference(handle))
    if not callable(handle):
        fb.expect(False, "", f"Pass your function itself: check_idempotent_consumer(handle), not {handle!r}.")
        return fb.result()
    ep = ep or endpoints()
    seed = seeds.announce(EXERCISE, seed)
    expected, plan = scenario(seed)
    print(f"this attempt: {len(expected)} payments; kills before ack #{plan[0][1]} "  # type: ignore[index]
          f"of run 1 and after ack #{plan[1][1]} of run 2")  # type: ignore[index]
    queue = ns(f"ex04-payments-{uuid.uuid4().hex[:8]}")
    try:
        _publish(ep.rabbitmq_url, queue, expected)
    except (pika.exceptions.AMQPError, OSError) as exc:
        raise BrokerlabError(f"Could not publish the test payments to RabbitMQ: {exc!r}", FIX) from exc
    workdir = Path(tempfile.mkdtemp(prefix="brokerlab-ex04-"))
    db_path, events_path = workdir / "store.sqlite", workdir / "events.txt"
    create_store(db_path)
    events = workers.Ledger(events_path)

    # Run 1 dies just before its k-th ack, run 2 just after its j-th ack, run 3 drains the queue.
    runs: list[workers.Worker] = []
    too_slow = False
    try:
        for crash in plan:
            worker = workers.start(_consume, handle, ep.rabbitmq_url, queue, str(db_path), str(events_path),
                                   crash, 1.0, 25.0, name="ex04-consumer")
            runs.append(worker)
            try:
                worker.join(40)
            except BrokerlabError:  # join() killed it: the learner's handle blocked
                too_slow = True
                break
            if "not-implemented" in events.items() or "raised" in events.items():
                break
            _wait_until_released(ep.rabbitmq_url, queue)  # its unacked messages are back in the queue
    finally:
        try:
            depth = _queue_depth_and_delete(ep.rabbitmq_url, queue)
        except (pika.exceptions.AMQPError, OSError) as exc:
            _cleanup(workdir, runs)
            raise BrokerlabError(f"Lost the connection to RabbitMQ during the check: {exc!r}", FIX) from exc

    try:
        rows = payments_per_id(db_path)
    except sqlite3.Error as exc:  # the learner's code broke the schema
        fb.expect(False, "", f"The `payments` table could not be read after your handle ran ({exc}). "
                             "Only INSERT rows into `payments` and `processed`; do not change the tables.")
    else:
        _judge(fb, events.items(), runs, too_slow, rows, expected, depth)
    finally:
        _cleanup(workdir, runs)
    return fb.result()


def _judge(fb: checks.Feedback, log: list[str], runs: list[workers.Worker], too_slow: bool,
           rows: dict[str, list[tuple[str, int]]], expected: dict[str, tuple[str, int]], depth: int) -> None:
    """Turn what the runs left behind (events, payment rows, queue depth) into feedback lines."""
    if too_slow:
        fb.expect(False, "", "Your handle did not finish: a consumer run took longer than 40 s, so the "
                             "checker killed it. Does handle block (a sleep, a loop, input())? It should "
                             "take milliseconds per message.")
        return
    if "not-implemented" in log:
        fb.call(_raise_not_implemented)  # the standard "not attempted yet" feedback
        return
    if "raised" in log:
        fb.expect(False, "", f"Your handle raised {_raised_message(runs[-1].output())}. The checker "
                             "stopped there: fix the error and run the check again.")
        return

    delivered = [e.split(":") for e in log if e.startswith("delivered:")]
    redelivered = sum(1 for _, _, flag in delivered if flag == "1")
    acked = {e.split(":", 1)[1] for e in log if e.startswith("ack:")}
    before = [e.split(":", 1)[1] for e in log if e.startswith("killed-before-ack:")]
    after = [e.split(":", 1)[1] for e in log if e.startswith("killed-after-ack:")]

    if not fb.expect(bool(acked), f"handle acknowledges what it processed ({len(acked)} ids acked)",
                     f"Your handle never called channel.basic_ack: RabbitMQ delivered {len(delivered)} "
                     f"messages and got no ack, so it keeps them unacked and redelivers them. Ack with "
                     "channel.basic_ack(delivery_tag=method.delivery_tag) after the payment is committed."):
        return
    kills = sum(1 for w in runs if w.killed)
    fb.expect(kills == 2,
              f"the consumer was killed (SIGKILL) twice mid-way and restarted; RabbitMQ redelivered "
              f"{redelivered} messages",
              f"The consumer was killed {kills} times instead of 2: the check kills it at a call of "
              "channel.basic_ack in each of its first two runs, so it must ack every message, once, "
              "right after its payment is committed.")

    lost = sorted(set(expected) - set(rows))
    acked_then_killed = [m for m in after if m in lost]
    if acked_then_killed:
        hint = (f"{acked_then_killed[0]} has no payment: your handle acknowledged it, the consumer was "
                "killed right after the ack, and the payment had not been committed yet — so "
                "RabbitMQ never redelivered it. Ack only after the payment is committed (after "
                "`db.commit()` / the end of `with db:`).")
    else:
        hint = (f"{len(lost)} payments are missing (e.g. {lost[:3]}): they were acked but never "
                "committed. Commit the transaction (`db.commit()` or `with db:`) before acking.")
    fb.expect(not lost, f"no loss: all {len(expected)} message ids have a payment", hint)

    dupes = sorted(m for m, r in rows.items() if len(r) > 1)
    redelivered_dupes = [m for m in before if m in dupes]
    if redelivered_dupes:
        first = redelivered_dupes[0]
        hint = (f"{first} was paid {len(rows[first])} times: its payment was committed, the consumer "
                "was killed before the ack, RabbitMQ redelivered it (method.redelivered=True) and your "
                "handle paid it again. In the SAME transaction as the payment, insert "
                "properties.message_id into `processed` (its PRIMARY KEY refuses a second copy) and skip "
                "ids that are already there.")
    else:
        hint = (f"{len(dupes)} ids were paid more than once (e.g. {dupes[:3]}). Keep the ids you have "
                "processed in the `processed` table, in the same transaction as the payment.")
    fb.expect(not dupes, "no duplicate effect: no message id was paid twice", hint)

    wrong = sorted(m for m, r in rows.items() if m in expected and set(r) != {expected[m]})
    unknown = sorted(set(rows) - set(expected))
    fb.expect(not wrong and not unknown, "every payment has the account and amount of its message",
              f"Payments do not match their messages (e.g. {(wrong + unknown)[:3]}): insert "
              "properties.message_id with the body's account and amount "
              "(json.loads(body)['account'], ['amount']).")
    fb.expect(depth == 0, "the queue is empty at the end: every message was acked",
              f"{depth} messages were still in the queue at the end: some deliveries were never acked.")


def _raise_not_implemented() -> None:
    raise NotImplementedError


def _cleanup(workdir: Path, runs: list[workers.Worker]) -> None:
    """Delete the worker logs and the scratch database."""
    for worker in runs:
        worker.log.unlink(missing_ok=True)
    for path in workdir.iterdir():
        path.unlink(missing_ok=True)
    workdir.rmdir()

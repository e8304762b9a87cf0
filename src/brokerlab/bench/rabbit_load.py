"""RabbitMQ load generators (pika), each run in its own process by :mod:`procs`.

Three ways to publish, for the lesson's comparison:

* ``pipelined`` — ``SelectConnection`` with publisher confirms and up to ``confirm_window``
  messages in flight; confirms (possibly ``multiple=True``) are matched by delivery tag.
  This is how a fast, safe publisher works.
* ``no-confirms`` — ``BlockingConnection`` + ``basic_publish`` in a loop: fast, but the client
  never learns whether the broker has the message (the article's snippet).
* ``each-confirm`` — ``BlockingConnection`` + ``confirm_delivery()``: every ``basic_publish``
  waits for its own confirm, one message per round trip.

``consume``: ``basic_consume`` with a prefetch (``basic_qos``) and per-message ``basic_ack``, or
auto-ack.
"""

from __future__ import annotations

import time

import pika
from pika.spec import Basic

from brokerlab.bench.histogram import LatencyRecorder
from brokerlab.bench.payload import HEADER, SENTINEL, filler, stamp
from brokerlab.bench.procs import Sync, Window
from brokerlab.settings import amqp_parameters

HARD_LIMIT_S = 120.0


def connection_parameters(url: str) -> pika.URLParameters:
    """The course's never-hanging parameters, with room for a loaded broker: 10 s socket timeout,
    30 s while a memory alarm blocks publishers."""
    return amqp_parameters(url, timeout=10, blocked_timeout=30)


def properties(workload: dict) -> pika.BasicProperties:
    """delivery_mode 2 (persistent) or 1 (transient)."""
    return pika.BasicProperties(delivery_mode=2 if workload["persistent"] else 1)


def publish(params: dict, sync: Sync) -> dict:
    """Publish for the window in the workload's ``publish_mode``."""
    mode = params["workload"]["publish_mode"]
    if mode == "pipelined":
        return _Pipelined(params, sync).run()
    return _publish_blocking(params, sync, confirm=mode == "each-confirm")


def _schedule(w: dict, window: Window, seq: int, now: int) -> int | None:
    """The message's intended send time; None once the window is over."""
    if w["rate"]:
        intended = window.warmup_start_ns + int(seq * 1e9 / w["rate"])
        return intended if intended < window.end_ns else None
    return now if now < window.end_ns else None


def _publish_blocking(params: dict, sync: Sync, confirm: bool) -> dict:
    w, queue = params["workload"], params["queue"]
    pad, props = filler(w["size"]), properties(w)
    rec = LatencyRecorder()
    with pika.BlockingConnection(connection_parameters(params["url"])) as conn:
        channel = conn.channel()
        if confirm:
            channel.confirm_delivery()  # from now on basic_publish waits for the broker's confirm
        window = sync.ready()
        sync.wait_until(window.warmup_start_ns)
        sent = seq = 0
        last = window.end_ns
        while True:
            now = time.monotonic_ns()
            intended = _schedule(w, window, seq, now)
            if intended is None:
                break
            if intended > now:
                time.sleep((intended - now) / 1e9)
                now = time.monotonic_ns()
            channel.basic_publish("", queue, HEADER.pack(seq, intended, now) + pad, props)
            if window.measuring(intended):
                sent += 1
                if confirm:
                    last = time.monotonic_ns()
                    rec.record(last, intended, now)
            seq += 1
            if not confirm and seq % 512 == 0:
                conn.process_data_events(0)  # heartbeats and flow control
        channel.basic_publish("", queue, HEADER.pack(SENTINEL, 0, 0) + pad, props)
    elapsed = (max(last, window.end_ns) - window.start_ns) / 1e9
    return {"role": "producer", "sent": sent, "acked": sent if confirm else 0, "errors": 0,
            "confirmed": confirm, "elapsed_s": elapsed, "msgs_per_s": sent / elapsed,
            "latency": rec.encode()}


class _Pipelined:
    """Publisher confirms with a window of in-flight messages, on pika's SelectConnection."""

    def __init__(self, params: dict, sync: Sync) -> None:
        self.w, self.sync = params["workload"], sync
        # Several queues (the scaling curves): message i goes to queues[i % len(queues)].
        self.queues: list[str] = params.get("queues") or [params["queue"]]
        self.pad, self.props = filler(self.w["size"]), properties(self.w)
        self.limit = self.w["confirm_window"]
        self.rec = LatencyRecorder()
        self.outstanding: dict[int, tuple[int, int]] = {}  # delivery tag -> (intended, actual)
        self.tag = self.seq = self.sent = self.acked = self.nacked = 0
        self.last_ack = 0
        self.finishing = self.sentinel_sent = False
        self.timer: object = None
        self.window: Window | None = None
        self.error: str | None = None
        self.conn = pika.SelectConnection(
            connection_parameters(params["url"]), on_open_callback=self._on_open,
            on_open_error_callback=self._on_error, on_close_callback=self._on_closed)

    def run(self) -> dict:
        self.conn.ioloop.call_later(HARD_LIMIT_S, self._abort)
        self.conn.ioloop.start()
        if self.error:
            raise RuntimeError(self.error)
        assert self.window is not None
        elapsed = (max(self.last_ack, self.window.end_ns) - self.window.start_ns) / 1e9
        return {"role": "producer", "sent": self.sent, "acked": self.acked, "errors": self.nacked,
                "confirmed": True, "elapsed_s": elapsed, "msgs_per_s": self.acked / elapsed,
                "latency": self.rec.encode()}

    def _on_open(self, conn: pika.SelectConnection) -> None:
        conn.channel(on_open_callback=self._on_channel)

    def _on_error(self, _conn: object, exc: BaseException) -> None:
        self.error = f"could not connect: {exc!r}"
        self.conn.ioloop.stop()

    def _on_closed(self, _conn: object, reason: BaseException) -> None:
        if not self.sentinel_sent and self.error is None:
            self.error = f"connection closed early: {reason!r}"
        self.conn.ioloop.stop()

    def _abort(self) -> None:
        self.error = self.error or f"no result within {HARD_LIMIT_S:.0f} s"
        self.sentinel_sent = True
        self.conn.close()

    def _on_channel(self, channel: pika.channel.Channel) -> None:
        self.channel = channel
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame: object) -> None:
        self.window = self.sync.ready()
        self._later(self.window.warmup_start_ns - time.monotonic_ns())

    def _later(self, delay_ns: int) -> None:
        """One pending timer at most: a pump already scheduled is enough."""
        if self.timer is None:
            self.timer = self.conn.ioloop.call_later(max(delay_ns, 0) / 1e9, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        self._pump()

    def _pump(self) -> None:
        window = self.window
        assert window is not None
        now = time.monotonic_ns()
        while not self.finishing and len(self.outstanding) < self.limit:
            intended = _schedule(self.w, window, self.seq, now)
            if intended is None:
                self.finishing = True
                break
            if intended > now:  # open loop, ahead of schedule: come back at the intended time
                self._later(intended - now)
                return
            queue = self.queues[self.seq % len(self.queues)]
            self.channel.basic_publish("", queue, HEADER.pack(self.seq, intended, now) + self.pad,
                                       self.props)
            self.tag += 1
            self.outstanding[self.tag] = (intended, now)
            self.sent += window.measuring(intended)
            self.seq += 1
            now = time.monotonic_ns()
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        if self.finishing and not self.outstanding:
            if not self.sentinel_sent:
                self.sentinel_sent = True
                self.channel.basic_publish("", self.queues[0], HEADER.pack(SENTINEL, 0, 0) + self.pad,
                                           self.props)
                self.tag += 1
                self.outstanding[self.tag] = (SENTINEL, SENTINEL)
            else:
                self.conn.close()

    def _on_confirm(self, frame: pika.frame.Method) -> None:
        now = time.monotonic_ns()
        method = frame.method
        ack = isinstance(method, Basic.Ack)
        if method.multiple:  # every tag up to this one; tags are increasing, the dict is ordered
            tags = []
            for tag in self.outstanding:
                if tag > method.delivery_tag:
                    break
                tags.append(tag)
        else:
            tags = [method.delivery_tag]
        assert self.window is not None
        for tag in tags:
            intended, actual = self.outstanding.pop(tag, (SENTINEL, SENTINEL))
            if intended == SENTINEL or not self.window.measuring(intended):
                continue
            if ack:
                self.acked += 1
                self.last_ack = now
                self.rec.record(now, intended, actual)
            else:
                self.nacked += 1
        if self.finishing:
            self._maybe_finish()
        else:
            self._pump()


def consume(params: dict, sync: Sync) -> dict:
    """basic_consume for the window (then drain until the sentinel, when measuring latency)."""
    w, queue = params["workload"], params["queue"]
    latency, drain = params.get("latency", True), params.get("drain", False)
    rec = LatencyRecorder()
    st = {"received": 0, "late": 0, "last": 0, "ends": 0, "done": False, "window": None}

    def on_message(channel: object, method: Basic.Deliver, _props: object, body: bytes) -> None:
        now = time.monotonic_ns()
        if not w["auto_ack"]:
            channel.basic_ack(method.delivery_tag)  # type: ignore[attr-defined]
        seq, intended, actual = stamp(body)
        window = st["window"]
        if window is None:
            return
        if seq == SENTINEL:  # one end marker per producer process
            st["ends"] += 1
            st["done"] = st["ends"] >= w["producers"]
            return
        if window.measuring(now):
            st["received"] += 1
            st["last"] = now
        if latency and window.measuring(intended):
            rec.record(now, intended, actual)
            st["late"] += now > window.end_ns

    with pika.BlockingConnection(connection_parameters(params["url"])) as conn:
        channel = conn.channel()
        if params.get("purge"):  # start from an empty queue (leftovers of the previous run)
            channel.queue_purge(queue)
        channel.basic_qos(prefetch_count=w["prefetch"])
        offset = "first" if params.get("stop_when_empty") else "next"  # prefilled vs this run's
        args = {"x-stream-offset": offset} if w["queue_type"] == "stream" else None
        if params.get("stop_when_empty"):
            # Consumer-only run on a filled queue: connected now, but consuming starts with the
            # measured window (else the warm-up would drain the queue, or prefetch it away).
            window = sync.ready()
            sync.wait_until(window.start_ns)
            channel.basic_consume(queue, on_message, auto_ack=w["auto_ack"], arguments=args)
        else:
            channel.basic_consume(queue, on_message, auto_ack=w["auto_ack"], arguments=args)
            window = sync.ready()
        exhausted = False
        st["window"] = window
        while not st["done"]:
            now = time.monotonic_ns()
            if now >= window.drain_deadline_ns or (not drain and now >= window.end_ns):
                break
            before = st["received"]
            conn.process_data_events(time_limit=0.05)
            if (params.get("stop_when_empty") and now > window.start_ns + 200_000_000
                    and st["received"] == before and now - st["last"] > 200_000_000):
                exhausted = True
                break
    end = min(st["last"], window.end_ns) if exhausted else window.end_ns
    elapsed = max(end - window.start_ns, 1) / 1e9
    return {"role": "consumer", "received": st["received"], "elapsed_s": elapsed,
            "msgs_per_s": st["received"] / elapsed, "exhausted": exhausted,
            "recorded": rec.count, "received_after_window": st["late"], "latency": rec.encode()}


def prefill(params: dict, _sync: Sync) -> dict:
    """Publish ``count`` messages, then wait until the queue holds them (setup, not timed)."""
    w, queue, count = params["workload"], params["queue"], params["count"]
    pad, props = filler(w["size"]), properties(w)
    with pika.BlockingConnection(connection_parameters(params["url"])) as conn:
        channel = conn.channel()
        now = time.monotonic_ns()
        for seq in range(count):
            channel.basic_publish("", queue, HEADER.pack(seq, now, now) + pad, props)
            if seq % 512 == 0:
                conn.process_data_events(0)
        deadline = time.monotonic() + 60
        depth = 0
        while time.monotonic() < deadline:
            depth = channel.queue_declare(queue, passive=True).method.message_count
            if depth >= params.get("expect", count):
                break
            conn.sleep(0.1)
    return {"written": count, "depth": depth}

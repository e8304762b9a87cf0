"""RabbitMQ stream-protocol load generator (``rstream``), run in its own process by :mod:`procs`.

The stream protocol publishes *batches*: one ``Publish`` frame carries many messages, each with a
publishing id, and the broker confirms ids in batches too. The generator keeps at most
``confirm_window`` messages awaiting their confirm (as the AMQP generator does), sends frames of
up to :data:`BATCH` messages, and spreads them round-robin over its streams. Only messages whose
send time falls in the measured window are counted, once confirmed.
"""

from __future__ import annotations

import asyncio
import time

from rstream import ConfirmationStatus, Producer, RawMessage

from brokerlab.bench.payload import HEADER, filler
from brokerlab.bench.procs import Sync, Window

BATCH = 100  # messages per Publish frame (at most the confirm window)
FINISH_TIMEOUT_S = 30.0


def publish(params: dict, sync: Sync) -> dict:
    """Publish to ``params["streams"]`` for the window; returns counts and throughput."""
    return asyncio.run(_publish(params, sync))


class _Confirms:
    """Messages awaiting their confirm, per stream (publishing ids are per publisher)."""

    def __init__(self, window: Window | None = None) -> None:
        self.window = window
        self.pending: dict[str, dict[int, int]] = {}  # stream -> publishing id -> send time
        self.in_flight = self.acked = self.nacked = 0
        self.last_ack = 0
        self.freed = asyncio.Event()

    def callback(self, stream: str):  # type: ignore[no-untyped-def]
        pending = self.pending.setdefault(stream, {})

        def on_confirm(status: ConfirmationStatus) -> None:
            sent_at = pending.pop(status.message_id, None)
            if sent_at is None:
                return
            self.in_flight -= 1
            assert self.window is not None
            if self.window.measuring(sent_at):
                if status.is_confirmed:
                    self.acked += 1
                    self.last_ack = time.monotonic_ns()
                else:
                    self.nacked += 1
            self.freed.set()
        return on_confirm


async def _publish(params: dict, sync: Sync) -> dict:
    w, streams = params["workload"], params["streams"]
    host, port = params["address"]
    user, password = params["auth"]
    pad = filler(w["size"])
    limit = w["confirm_window"]
    batch = min(BATCH, limit)
    confirms = _Confirms()
    callbacks = {s: confirms.callback(s) for s in streams}
    next_id = dict.fromkeys(streams, 1)
    sent = seq = 0
    async with Producer(host, port, username=user, password=password,
                        load_balancer_mode=True) as producer:
        window = confirms.window = sync.ready()
        sync.wait_until(window.warmup_start_ns)
        while True:
            now = time.monotonic_ns()
            if now >= window.end_ns:
                break
            while confirms.in_flight + batch > limit:
                confirms.freed.clear()
                await asyncio.wait_for(confirms.freed.wait(), FINISH_TIMEOUT_S)
            now = time.monotonic_ns()
            stream = streams[seq % len(streams)]
            pending = confirms.pending[stream]
            first = next_id[stream]
            next_id[stream] = first + batch
            # Our own publishing ids, registered before the frame leaves: a confirm may come back
            # before send_batch() returns.
            messages = [RawMessage(HEADER.pack(seq * batch + i, now, now) + pad, first + i)
                        for i in range(batch)]
            pending.update(dict.fromkeys(range(first, first + batch), now))
            confirms.in_flight += batch
            await producer.send_batch(stream, messages, on_publish_confirm=callbacks[stream])
            if window.measuring(now):
                sent += batch
            seq += 1
        deadline = time.monotonic() + FINISH_TIMEOUT_S
        while confirms.in_flight and time.monotonic() < deadline:
            confirms.freed.clear()
            await asyncio.wait_for(confirms.freed.wait(), FINISH_TIMEOUT_S)
    elapsed = (max(confirms.last_ack, window.end_ns) - window.start_ns) / 1e9
    return {"role": "producer", "sent": sent, "acked": confirms.acked, "errors": confirms.nacked,
            "unconfirmed": confirms.in_flight, "elapsed_s": elapsed,
            "msgs_per_s": confirms.acked / elapsed if elapsed > 0 else 0.0}

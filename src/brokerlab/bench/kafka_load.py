"""Kafka load generators (confluent-kafka), each run in its own process by :mod:`procs`.

``produce``: closed loop (as fast as the client allows) or open loop (a fixed rate; each message
carries its intended send time). Tuned the way the native tool is: ``linger.ms`` and
``batch.size`` batch records; a full local queue raises ``BufferError``, answered with ``poll()``
(which serves delivery reports and frees room); ``flush()`` runs before the clock stops, so
every counted message was acknowledged by the broker.

``consume``: ``consume(num_messages=500)`` per call ("batch") or ``poll()`` per message ("one").
"""

from __future__ import annotations

import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

from brokerlab.bench.histogram import LatencyRecorder
from brokerlab.bench.payload import HEADER, SENTINEL, filler, stamp
from brokerlab.bench.procs import Sync
from brokerlab.settings import ns

BATCH = 500


def producer_config(params: dict) -> dict:
    """The producer settings a workload implies (shown in the notebooks)."""
    w = params["workload"]
    return {**params["client"], "acks": w["acks"], "linger.ms": w["linger_ms"],
            "batch.size": w["batch_size"], "queue.buffering.max.kbytes": 16384,
            "message.timeout.ms": 30000, "log_level": 3}


def produce(params: dict, sync: Sync) -> dict:
    """Produce for the window; returns counts, throughput and ack-latency histograms."""
    w, topic = params["workload"], params["topic"]
    pad = filler(w["size"])  # the body is built here, outside the timed loop
    producer = Producer(producer_config(params))
    producer.list_topics(topic, timeout=10)  # connected before the clock starts
    rec = LatencyRecorder()
    st = {"acked": 0, "errors": 0, "last_ack": 0}
    window = sync.ready()

    def on_delivery(err: KafkaError | None, msg: object) -> None:
        now = time.monotonic_ns()
        seq, intended, actual = HEADER.unpack_from(msg.value())  # type: ignore[attr-defined]
        if seq == SENTINEL or not window.measuring(intended):
            return
        if err is not None:
            st["errors"] += 1
            return
        st["acked"] += 1
        st["last_ack"] = now
        rec.record(now, intended, actual)

    rate = w["rate"]
    interval = 1e9 / rate if rate else 0.0
    sent = seq = 0
    buffer_full = 0  # times produce() found the local queue full

    def send(number: int, intended: int) -> None:
        """produce() message ``number``, waiting while the local queue is full (serving delivery
        reports meanwhile). Its header carries the time it was really handed to the client."""
        nonlocal buffer_full
        while True:
            actual = 0 if number == SENTINEL else time.monotonic_ns()
            try:
                producer.produce(topic, HEADER.pack(number, intended, actual) + pad, on_delivery=on_delivery)
                return
            except BufferError:
                buffer_full += 1
                producer.poll(0.005)

    max_behind_ns = 0
    sync.wait_until(window.warmup_start_ns)
    while True:
        if rate:
            intended = window.warmup_start_ns + int(seq * interval)
            if intended >= window.end_ns:
                break
            now = time.monotonic_ns()
            if now < intended:
                time.sleep((intended - now) / 1e9)
                now = time.monotonic_ns()
            max_behind_ns = max(max_behind_ns, now - intended)
        else:
            now = intended = time.monotonic_ns()
            if now >= window.end_ns:
                break
        send(seq, intended)
        if window.measuring(intended):
            sent += 1
        seq += 1
        if w["one_at_a_time"]:
            producer.flush(10)  # wait for this message's ack before the next (the article's .get())
        elif rate or seq % 64 == 0:
            producer.poll(0)
    send(SENTINEL, 0)  # the consumer's end marker; its delivery is not counted
    left = producer.flush(30)  # every counted message is acknowledged before the clock stops
    elapsed = (max(st["last_ack"], window.end_ns) - window.start_ns) / 1e9
    return {"role": "producer", "sent": sent, "acked": st["acked"], "errors": st["errors"],
            "unflushed": left, "buffer_full": buffer_full, "elapsed_s": elapsed,
            "msgs_per_s": st["acked"] / elapsed if elapsed > 0 else 0.0,
            "max_behind_schedule_ms": max_behind_ns / 1e6, "latency": rec.encode()}


def consume(params: dict, sync: Sync) -> dict:
    """Read the topic from its start for the window (then drain, when measuring latency)."""
    w, topic = params["workload"], params["topic"]
    # assign() and no commits: the group id is required but no group is created on the broker.
    conf = {**params["client"], "group.id": ns(f"bench-reader-{uuid.uuid4().hex[:8]}"),
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "enable.partition.eof": True, "log_level": 3}
    consumer = Consumer(conf)
    try:
        consumer.list_topics(topic, timeout=10)
        start = OFFSET_BEGINNING
        if params.get("from_end"):  # this run's messages only: start at the current end
            start = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
        partition = TopicPartition(topic, 0, start)
        if params.get("stop_at_eof"):
            # Consumer-only run on a filled topic: connected now, but reading starts with the
            # measured window (else the warm-up would read, or prefetch, the topic away).
            window = sync.ready()
            sync.wait_until(window.start_ns)
            consumer.assign([partition])
            return _consume_loop(consumer, w["consume_mode"], params, window)
        consumer.assign([partition])
        return _consume_loop(consumer, w["consume_mode"], params, sync.ready())
    finally:
        consumer.close()


def _consume_loop(consumer: Consumer, mode: str, params: dict, window: object) -> dict:
    from brokerlab.bench.procs import Window

    assert isinstance(window, Window)
    latency, drain = params.get("latency", True), params.get("drain", False)
    rec = LatencyRecorder()
    received = late = ends = 0  # ends: end markers seen, one per producer process
    last_ns = 0
    exhausted = False
    while True:
        now = time.monotonic_ns()
        if now >= window.drain_deadline_ns or (not drain and now >= window.end_ns):
            break
        msgs = consumer.consume(BATCH, timeout=0.1) if mode == "batch" else [consumer.poll(0.1)]
        now = time.monotonic_ns()
        done = False
        for msg in msgs:
            if msg is None:
                continue
            if msg.error() is not None:
                if msg.error().code() == KafkaError._PARTITION_EOF and params.get("stop_at_eof"):
                    exhausted = done = now >= window.start_ns
                continue
            seq, intended, actual = stamp(msg.value())
            if seq == SENTINEL:
                ends += 1
                done = ends >= params["workload"]["producers"]
                continue
            if window.measuring(now):
                received += 1
                last_ns = now
            if latency and window.measuring(intended):
                rec.record(now, intended, actual)
                late += now > window.end_ns
        if done:
            break
    end = min(last_ns, window.end_ns) if exhausted else window.end_ns
    elapsed = max(end - window.start_ns, 1) / 1e9
    return {"role": "consumer", "received": received, "elapsed_s": elapsed,
            "msgs_per_s": received / elapsed, "exhausted": exhausted,
            "recorded": rec.count, "received_after_window": late, "latency": rec.encode()}


def prefill(params: dict, _sync: Sync) -> dict:
    """Write ``count`` messages as fast as possible (setup for consumer-only runs, not timed)."""
    w, topic, count = params["workload"], params["topic"], params["count"]
    pad = filler(w["size"])
    producer = Producer({**producer_config(params), "acks": "1"})
    now = time.monotonic_ns()
    for seq in range(count):
        while True:
            try:
                producer.produce(topic, HEADER.pack(seq, now, now) + pad)
                break
            except BufferError:
                producer.poll(0.01)
        if seq % 256 == 0:
            producer.poll(0)
    left = producer.flush(60)
    return {"written": count - left}

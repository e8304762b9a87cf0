"""Reference solution for notebook 06's exercise: produce a burst without losing any of it."""


def produce_all(producer, topic: str, payloads: list[bytes]) -> int:
    """Produce every payload to `topic` with `producer`; return how many the broker acknowledged."""
    acknowledged = 0

    def on_delivery(err, msg):
        nonlocal acknowledged
        if err is None:
            acknowledged += 1

    for payload in payloads:
        while True:
            try:
                producer.produce(topic, value=payload, on_delivery=on_delivery)
                break
            except BufferError:  # the local queue is full: serve delivery reports, then retry
                producer.poll(0.1)
        producer.poll(0)  # serve delivery reports as we go (cheap, never blocks)
    producer.flush(30)  # wait until every queued message is acknowledged (or failed)
    return acknowledged

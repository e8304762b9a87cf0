"""Reference solution — lab 01, exercise "drain": a consumer-group member whose lag reaches zero.

The group's lag, as the broker sees it, is the high watermark minus the group's COMMITTED offset.
So handling records is not enough: the member commits what it handled (here after each record,
asynchronously: cheap, and the last commits are flushed by close()). close() also leaves the group
at once, so the other members get its partitions without waiting for a session timeout.
"""

import threading
from collections.abc import Callable

from confluent_kafka import Consumer, Message


def drain(config: dict, topic: str, handle: Callable[[Message], None], stop: threading.Event) -> None:
    """Read `topic` as a member of config's group, handle every record, commit it, leave cleanly."""
    consumer = Consumer({**config, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    try:
        while not stop.is_set():
            msg = consumer.poll(0.5)  # a short timeout: stop is noticed within half a second
            if msg is None or msg.error() is not None:
                continue
            handle(msg)
            consumer.commit(message=msg, asynchronous=True)  # the group's bookmark follows the work
    finally:
        consumer.close()  # commits what is pending and leaves the group now

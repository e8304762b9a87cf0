"""Reference solution — exercise 04: a RabbitMQ consumer that is at-least-once AND idempotent."""

import json


def handle(channel, method, properties, body, db):
    """Pay one payment message exactly once in `db`, then acknowledge it.

    At-least-once: the ack comes last, after the transaction is committed, so a crash before the
    ack means RabbitMQ redelivers the message. Idempotent: the message id goes into `processed`
    (PRIMARY KEY) in the same transaction as the payment, so a redelivered copy changes nothing.
    """
    payment = json.loads(body)
    with db:  # one transaction: the id and the payment are committed together, or neither is
        first_time = db.execute("INSERT OR IGNORE INTO processed (message_id) VALUES (?)",
                                (properties.message_id,)).rowcount == 1
        if first_time:
            db.execute("INSERT INTO payments (message_id, account, amount) VALUES (?, ?, ?)",
                       (properties.message_id, payment["account"], payment["amount"]))
    channel.basic_ack(delivery_tag=method.delivery_tag)  # only now may RabbitMQ forget the message

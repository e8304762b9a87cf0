def setup_queues(channel, names, max_deliveries):
    """A quorum work queue that dead-letters a message after `max_deliveries` deliveries."""
    # Where dead letters go: a fanout exchange (routing keys do not matter) and its queue.
    channel.exchange_declare(names["dlx"], "fanout", durable=True)
    channel.queue_declare(names["dlq"], durable=True)
    channel.queue_bind(names["dlq"], names["dlx"], "")
    channel.queue_declare(names["work"], durable=True, arguments={
        "x-queue-type": "quorum",                 # x-delivery-limit works on quorum queues only
        "x-delivery-limit": max_deliveries - 1,   # redeliveries allowed: N - 1 → N deliveries in all
        "x-dead-letter-exchange": names["dlx"],   # where a message goes when it hits the limit
    })

def prepare_consumer(channel, queue, max_ready, max_prefetch):
    """Declare `queue` bounded, refusing (not dropping) what does not fit; limit unacked messages."""
    channel.queue_declare(queue, arguments={
        "x-max-length": max_ready,       # at most max_ready ready messages in the queue
        "x-overflow": "reject-publish",  # a full queue nacks new publishes: the publisher knows
    })
    channel.basic_qos(prefetch_count=max_prefetch)  # at most max_prefetch unacknowledged messages

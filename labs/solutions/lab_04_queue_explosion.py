def prepare_consumer(channel, queue):
    """Declare `queue` bounded, refusing (not dropping) what does not fit; limit unacked messages."""
    channel.queue_declare(queue, arguments={
        "x-max-length": 100,            # at most 100 ready messages in the queue
        "x-overflow": "reject-publish",  # a full queue nacks new publishes: the publisher knows
    })
    channel.basic_qos(prefetch_count=10)  # at most 10 unacknowledged messages on this consumer

def declare_queue(channel, name):
    """A quorum queue: a Raft group with members on several nodes (here all three) and a leader
    among them; it works while a majority of its members is up. Quorum queues are always durable."""
    channel.queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"})

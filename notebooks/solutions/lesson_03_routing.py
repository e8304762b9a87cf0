def declare_routing(channel, exchange, queues):
    """Declare the topic exchange and bind each queue with the pattern its rule describes."""
    channel.exchange_declare(exchange=exchange, exchange_type="topic")
    # `#` matches zero or more words: orders.eu, orders.eu.created, orders.eu.de.shipped ...
    channel.queue_bind(queue=queues["eu"], exchange=exchange, routing_key="orders.eu.#")
    # `*` matches exactly one word: three words, the last one `urgent`.
    channel.queue_bind(queue=queues["urgent"], exchange=exchange, routing_key="*.*.urgent")
    # A lone `#` matches every routing key (the queue sees all traffic, like a fanout).
    channel.queue_bind(queue=queues["audit"], exchange=exchange, routing_key="#")

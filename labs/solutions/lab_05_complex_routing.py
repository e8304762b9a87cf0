def build_routing(channel, names):
    """One topic exchange, one queue per service, an alternate exchange for everything else."""
    q = names["queues"]
    # The alternate exchange: a fanout that takes whatever the main exchange cannot route.
    channel.exchange_declare(names["alternate"], "fanout")
    channel.queue_declare(q["unrouted"])
    channel.queue_bind(q["unrouted"], names["alternate"])
    # The main exchange names its alternate when it is declared.
    channel.exchange_declare(names["exchange"], "topic",
                             arguments={"alternate-exchange": names["alternate"]})
    bindings = {
        "billing": ["order.created.*", "order.cancelled.*"],  # '*' = exactly one word
        "shipping_eu": ["order.paid.eu"],
        "shipping_us": ["order.paid.us"],
        "audit": ["payment.#"],  # '#' = zero or more words
    }
    for service, patterns in bindings.items():
        channel.queue_declare(q[service])
        for pattern in patterns:
            channel.queue_bind(q[service], names["exchange"], pattern)

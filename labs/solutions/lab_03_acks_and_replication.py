"""Reference solution — lab 03, exercise "reliable producer": no acknowledged write lost, none doubled.

With min.insync.replicas=2 on the topic (the cluster's setting), acks=all means "stored on at least
two brokers" before the producer hears "done", so one broker dying cannot take an acknowledged
record with it. Idempotence makes the retries during the election safe (no duplicates, no
reordering), and the delivery timeout gives the cluster time to elect a new leader.
"""


def reliable_producer_config() -> dict:
    """Producer settings (without bootstrap.servers) that survive a leader kill without losing acks."""
    return {
        "acks": "all",                  # wait for every in-sync replica (at least min.insync.replicas)
        "enable.idempotence": True,     # retries cannot write a record twice or out of order
        "delivery.timeout.ms": 60000,   # keep retrying for a minute: far longer than an election
        # retries: left at the default (unbounded within delivery.timeout.ms)
    }

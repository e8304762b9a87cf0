# Reference solution — exercise "describe_workloads" (notebook 08).


def describe_workloads() -> dict[str, dict]:
    """The decision helper's answers for each scenario, as you would type them into the form."""
    return {
        "sensors": {
            "throughput": 2000 / 10,  # 2,000 thermostats, one reading every 10 s each
            "ordering": "none",
            "routing": "many-patterns",  # every service subscribes with its own wildcards
            "replay": False,
            "retention_days": 0,  # deleted as soon as it is processed
            "latency_p99_ms": None,
            "per_message": False,
            "survive_node_loss": False,  # losing a few readings is acceptable
            "team": "none",
            "protocols": ["mqtt"],
        },
        "ledger": {
            "throughput": "3k",
            "ordering": "per-key",  # one account in order, accounts independent
            "routing": "simple",
            "replay": True,  # new services re-read the history
            "retention_days": 30,
            "latency_p99_ms": None,
            "per_message": False,
            "survive_node_loss": True,
            "team": "kafka",
            "protocols": [],
        },
        "renders": {
            "throughput": 50,
            "ordering": "none",
            "routing": "simple",
            "replay": False,
            "retention_days": 0,
            "latency_p99_ms": 2000,
            "per_message": True,  # per-job acks, retries, dead-lettering, priorities
            "survive_node_loss": True,
            "team": "none",
            "protocols": [],
        },
    }

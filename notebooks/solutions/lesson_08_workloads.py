# Reference solution — exercise "describe_workloads" (notebook 08).


def describe_workloads(facts: dict[str, dict]) -> dict[str, dict]:
    """The decision helper's answers for each scenario, as you would type them into the form."""
    sensors, ledger, renders = facts["sensors"], facts["ledger"], facts["renders"]
    return {
        "sensors": {
            "throughput": sensors["devices"] / sensors["interval_s"],  # one reading per device per interval
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
            "throughput": ledger["peak_per_s"],
            "ordering": "per-key",  # one account in order, accounts independent
            "routing": "simple",
            "replay": True,  # new services re-read the history
            "retention_days": ledger["history_days"],
            "latency_p99_ms": None,
            "per_message": False,
            "survive_node_loss": True,
            "team": "kafka",
            "protocols": [],
        },
        "renders": {
            "throughput": renders["jobs_per_s"],
            "ordering": "none",
            "routing": "simple",
            "replay": False,
            "retention_days": 0,
            "latency_p99_ms": renders["p99_ms"],
            "per_message": True,  # per-job acks, retries, dead-lettering, priorities
            "survive_node_loss": True,
            "team": "none",
            "protocols": [],
        },
    }

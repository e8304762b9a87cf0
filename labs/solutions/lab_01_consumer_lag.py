"""Reference solution — lab 01, exercise "consumers needed": the smallest group that drains a backlog.

Kafka gives each partition of a topic to exactly ONE member of a consumer group. A group of n
consumers is therefore as slow as its busiest member, which owns ceil(partitions / n) partitions,
and members beyond the partition count get no partition at all.
"""

import math


def consumers_needed(partitions: int, backlog_per_partition: int, records_per_second: float,
                     deadline_s: float) -> int:
    """The smallest group size that drains the backlog within `deadline_s` (partition count if none)."""
    for n in range(1, partitions + 1):
        busiest = math.ceil(partitions / n)  # partitions owned by the busiest member
        if busiest * backlog_per_partition / records_per_second <= deadline_s:
            return n
    return partitions  # even one partition per consumer is too slow; more consumers would sit idle

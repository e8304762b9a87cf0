"""What a run does: one system, one client, one durability rung, every setting explicit.

The durability ladder (the same rungs on both systems, so comparisons are fair):

====  ==============================================  ===============================================
rung  Kafka                                           RabbitMQ
====  ==============================================  ===============================================
D0    ``acks=0`` (fire and forget)                    transient queue and messages, no confirms,
                                                      auto-ack consumer
D1    ``acks=all`` (RF 1), no fsync per message       durable classic queue, persistent messages,
                                                      publisher confirms (pipelined window)
D2    ``acks=all`` + topic ``flush.messages=1``        quorum queue + publisher confirms (its Raft log
      (fsync before the ack)                          is fsynced before the confirm)
====  ==============================================  ===============================================
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Literal

System = Literal["kafka", "rabbitmq"]
Durability = Literal["D0", "D1", "D2"]
SYSTEMS: tuple[str, ...] = ("kafka", "rabbitmq")
RUNGS: tuple[str, ...] = ("D0", "D1", "D2")
ACKS = ("0", "1", "all")
QUEUE_TYPES = ("classic", "quorum", "stream")
PUBLISH_MODES = ("pipelined", "no-confirms", "each-confirm")
CONSUME_MODES = ("batch", "one")
MAX_SIZE = 1_048_576


@dataclass(frozen=True)
class Workload:
    """Every setting of one load generator run. Build with :func:`ladder`, tweak with ``with_``."""

    system: System
    durability: Durability = "D1"
    size: int = 1024  # bytes per message
    rate: int | None = None  # None: closed loop (as fast as possible); else open loop, msgs/s
    consumer: bool = True  # run a consumer process beside the producer
    producers: int = 1  # producer processes, each with its own connection (and confirm window)
    # Kafka
    acks: str = "all"
    linger_ms: int = 5
    batch_size: int = 1_048_576
    flush_messages: int | None = None  # topic flush.messages (1 = fsync every message)
    consume_mode: str = "batch"  # "batch": consume(num_messages=500); "one": poll() per message
    one_at_a_time: bool = False  # flush() after every produce(): wait for each ack (like .get())
    # RabbitMQ
    queue_type: str = "classic"
    durable: bool = True
    persistent: bool = True
    publish_mode: str = "pipelined"
    confirm_window: int = 100
    prefetch: int = 100
    auto_ack: bool = False

    def with_(self, **changes: object) -> Workload:
        """A validated copy with some settings changed."""
        return replace(self, **changes).validate()  # type: ignore[arg-type]

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def label(self) -> str:
        """A short human label, e.g. ``kafka D1 acks=all linger=5``."""
        mode = "closed loop" if self.rate is None else f"{self.rate}/s"
        if self.system == "kafka":
            extra = f"acks={self.acks} linger={self.linger_ms}ms"
            if self.one_at_a_time:
                extra += " one-at-a-time"
            if self.flush_messages:
                extra += f" flush.messages={self.flush_messages}"
        else:
            extra = f"{self.queue_type} {self.publish_mode}"
            if self.publish_mode == "pipelined":
                extra += f" window={self.confirm_window}"
        if self.producers > 1:
            extra += f" ×{self.producers} producers"
        return f"{self.system} {self.durability} {extra} {self.size}B {mode}"

    @property
    def consumer_label(self) -> str:
        """The label of a consumer-only run: what the consumer does, e.g. ``rabbitmq D1 classic
        consumer-only prefetch=100 1024B`` (the producer's settings play no part there)."""
        if self.system == "kafka":
            how = "consume(500)" if self.consume_mode == "batch" else "poll() one"
            return f"kafka {self.durability} consumer-only {how} {self.size}B"
        how = "auto-ack" if self.auto_ack else f"prefetch={self.prefetch}"
        return f"rabbitmq {self.durability} {self.queue_type} consumer-only {how} {self.size}B"

    def validate(self) -> Workload:
        """Raise ValueError with a clear message when a setting is impossible; return self."""
        problems = []
        if self.system not in SYSTEMS:
            problems.append(f"system must be one of {SYSTEMS}, got {self.system!r}")
        if self.durability not in RUNGS:
            problems.append(f"durability must be one of {RUNGS}, got {self.durability!r}")
        if not 24 <= self.size <= MAX_SIZE:
            problems.append(f"message size must be 24 B (the timestamp header) to 1 MiB, got {self.size}")
        if self.rate is not None and not 1 <= self.rate <= 1_000_000:
            problems.append(f"rate must be 1 to 1,000,000 msgs/s (or None for closed loop), got {self.rate}")
        if not 1 <= self.producers <= 16:
            problems.append(f"producers must be 1 to 16 processes, got {self.producers}")
        if self.acks not in ACKS:
            problems.append(f"acks must be one of {ACKS}, got {self.acks!r}")
        if not 0 <= self.linger_ms <= 1000:
            problems.append(f"linger.ms must be 0 to 1000, got {self.linger_ms}")
        if not 1024 <= self.batch_size <= 16 * MAX_SIZE:
            problems.append(f"batch.size must be 1 KiB to 16 MiB, got {self.batch_size}")
        if self.consume_mode not in CONSUME_MODES:
            problems.append(f"consume mode must be one of {CONSUME_MODES}, got {self.consume_mode!r}")
        if self.queue_type not in QUEUE_TYPES:
            problems.append(f"queue type must be one of {QUEUE_TYPES}, got {self.queue_type!r}")
        if self.publish_mode not in PUBLISH_MODES:
            problems.append(f"publish mode must be one of {PUBLISH_MODES}, got {self.publish_mode!r}")
        if not 1 <= self.confirm_window <= 10_000:
            problems.append(f"confirm window must be 1 to 10,000, got {self.confirm_window}")
        if not 0 <= self.prefetch <= 65_535:
            problems.append(f"prefetch must be 0 to 65,535, got {self.prefetch}")
        if self.queue_type in ("quorum", "stream") and not self.durable:
            problems.append(f"{self.queue_type} queues are always durable: set durable=True")
        if self.queue_type == "stream" and self.auto_ack:
            problems.append("stream consumers must acknowledge: auto_ack=False")
        if self.queue_type == "stream" and self.prefetch == 0:
            problems.append("stream consumers need a prefetch (1 or more)")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def ladder(system: System, rung: Durability, **overrides: object) -> Workload:
    """The workload for one durability rung on one system (see the module docstring)."""
    if system == "kafka":
        base = {"D0": {"acks": "0"}, "D1": {"acks": "all"},
                "D2": {"acks": "all", "flush_messages": 1}}[rung]
    else:
        base = {"D0": {"queue_type": "classic", "durable": False, "persistent": False,
                       "publish_mode": "no-confirms", "auto_ack": True},
                "D1": {"queue_type": "classic", "durable": True, "persistent": True,
                       "publish_mode": "pipelined"},
                "D2": {"queue_type": "quorum", "durable": True, "persistent": True,
                       "publish_mode": "pipelined"}}[rung]
    return Workload(system=system, durability=rung, **{**base, **overrides}).validate()  # type: ignore[arg-type]

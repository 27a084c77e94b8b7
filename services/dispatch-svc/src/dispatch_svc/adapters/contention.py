"""Where dispatch workers collide, counted per process: the benchmark reads the counts
(`GET /api/dispatch/stats/contention`) to show whether workers race for the same documents."""

from dataclasses import asdict, dataclass


@dataclass
class Contention:
    lost_writes: int = 0
    """Conditional request writes that found the request changed since it was read."""
    held_slots: int = 0
    """Slot claims refused because another claim already held the slot for that request."""
    retries: int = 0
    """Transient store errors (write lock, failover) retried in place."""
    step_backs: int = 0
    """Partitions this worker handed over to the worker that owns them."""

    def snapshot(self) -> dict[str, int]:
        return asdict(self)


CONTENTION = Contention()
"""This process's counts (one dispatch process serves one database)."""

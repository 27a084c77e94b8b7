"""The life of a request inside dispatch: an explicit state machine."""

from enum import StrEnum


class State(StrEnum):
    NEW = "new"
    """Stored, not routed yet (a crash here is repaired by the sweeper)."""
    QUEUED = "queued"
    """Queue mode: waiting, FIFO per company by `queued_since`."""
    OFFERED = "offered"
    """Web mode: offered to `offered_to` (possibly nobody yet); the first accept wins."""
    ASSIGNED = "assigned"
    """Belongs to `technician_id`, which holds one capacity slot for it."""
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


FINISHED = frozenset({State.COMPLETED, State.CANCELLED, State.REJECTED})
"""Terminal states: such requests move to the history collection."""

CANCELLABLE = frozenset({State.NEW, State.QUEUED, State.OFFERED, State.ASSIGNED})

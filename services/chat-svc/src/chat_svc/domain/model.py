"""What a chat session is, and the messages it holds."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from contracts.vocabulary import EndedBy, SessionOutcome

SESSION_PREFIX = "cht_"


class SessionState(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    """The request was cancelled before it was ever assigned: a marker, never a chat."""


class Author(StrEnum):
    CUSTOMER = "customer"
    TECHNICIAN = "technician"
    SYSTEM = "system"


def session_id_for(request_id: str) -> str:
    """Deterministic, so a redelivered assignment can never open a second session."""
    return SESSION_PREFIX + request_id


def message_id(session_id: str, seq: int) -> str:
    # Derived from the sequence number: resuming from an id needs no lookup at all.
    return f"{session_id}:{seq}"


def seq_in(session_id: str, message_id_: str) -> int | None:
    """The sequence number a message id of `session_id` names (None: not one of its ids)."""
    prefix, _, seq = message_id_.rpartition(":")
    if prefix != session_id or not seq.isdigit():
        return None
    return int(seq)


def bucket_of(seq: int, size: int) -> int:
    """The bucket holding message `seq` (from 1): bucket b holds seqs b*size+1 .. (b+1)*size."""
    return (seq - 1) // size if seq > 0 else 0


@dataclass(frozen=True)
class ChatSession:
    session_id: str
    request_id: str
    account_id: str
    company_id: str
    technician_id: str
    customer_name: str
    description: str
    assignment: int
    state: SessionState
    opened_at: datetime
    last_seq: int = 0
    ended_at: datetime | None = None
    ended_by: EndedBy | None = None
    outcome: SessionOutcome | None = None
    notes: str = ""
    correlation_id: str = ""
    bucket: int = 0
    """The newest message bucket known when the session was read (a hint: it may be behind)."""
    technician_joined: bool = False
    technician_name: str = ""
    """Set by a transfer between colleagues (the customer's page shows who took over)."""
    awaiting_technician: bool = False
    """Sent back to the company's queue: the technician who left may no longer act on it,
    and the next assignment takes it over."""
    guests: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Colleagues invited into the chat who joined it and have not left: id -> name. They
    may join the socket and write; the chat stays `technician_id`'s (only they end it)."""

    @property
    def is_active(self) -> bool:
        return self.state is SessionState.ACTIVE


@dataclass(frozen=True)
class Message:
    id: str
    session_id: str
    seq: int
    author: Author
    text: str
    sent_at: datetime
    client_id: str | None = None
    author_name: str = ""

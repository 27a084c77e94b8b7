"""What a chat session is, and the messages it holds."""

from dataclasses import dataclass
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
    # Derived from the sequence number: resuming from an id needs no extra lookup index.
    return f"{session_id}:{seq}"


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

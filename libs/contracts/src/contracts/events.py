"""Every event of the catalogue: past-tense facts, versioned, additive-only."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from contracts.envelope import EventPayload
from contracts.vocabulary import (
    ConnectionMode,
    EndedBy,
    PortalStatus,
    PortalType,
    RejectionReason,
    SessionOutcome,
    UnavailableReason,
    WithdrawalReason,
)

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _id(description: str, example: str) -> Any:
    return Field(description=description, examples=[example])


class PortalConfigured(EventPayload):
    """A portal was created or changed; carries its full current configuration."""

    event_type = "PortalConfigured"
    aggregate = "portal"
    action = "configured"

    portal_id: Id = _id("Portal id.", "prt_4f2a")
    account_id: Id = _id("Account owning the portal.", "acc_acme")
    company_id: Id = _id("Company the portal serves (one portal per company).", "cmp_globex")
    subdomain: str = Field(description="Unique subdomain of the portal.", examples=["globex"])
    status: PortalStatus = Field(description="Active portals accept requests.")
    mode: ConnectionMode = Field(description="How requests are routed.")
    portal_type: PortalType = Field(description="What the customer fills in.")
    revision: int = Field(ge=1, description="Increases with each change; stale events are ignored.")


class TechnicianUpdated(EventPayload):
    """A technician was created or changed (name, company access, capacity, enabled)."""

    event_type = "TechnicianUpdated"
    aggregate = "technician"
    action = "updated"

    technician_id: Id = _id("Technician.", "tec_ana")
    account_id: Id = _id("Account.", "acc_acme")
    display_name: str = Field(description="Name shown to customers.", examples=["Ana"])
    company_ids: list[Id] = Field(description="Companies the technician can access.")
    capacity: int = Field(ge=1, le=50, description="Maximum concurrent chats.")
    enabled: bool = Field(description="False once the technician is removed from the account.")
    revision: int = Field(ge=1, description="Increases with each change; stale events are ignored.")


class RequestSubmitted(EventPayload):
    """A customer submitted a support request through a portal."""

    event_type = "RequestSubmitted"
    aggregate = "request"
    action = "submitted"

    request_id: Id = _id("Request id, chosen by portal-svc.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company whose portal received the request.", "cmp_globex")
    portal_id: Id = _id("Portal.", "prt_4f2a")
    mode: ConnectionMode = Field(description="Connection mode of the portal at submission.")
    portal_type: PortalType = Field(description="Portal type at submission.")
    customer_name: str = Field(max_length=100, description="Name the customer gave.")
    customer_email: str | None = Field(default=None, max_length=254, description="Optional e-mail.")
    description: str = Field(default="", max_length=2000, description="The problem, in their words.")
    chosen_technician_id: str | None = Field(
        default=None, description="SmartMatch: the technician the customer picked."
    )
    connection_code: str | None = Field(
        default=None, pattern=r"^\d{9}$", description="SmartPin: the 9-digit code read out."
    )
    submitted_at: datetime = Field(description="When the request was accepted by portal-svc.")


class TechnicianAvailable(EventPayload):
    """A technician became available for routing (chose Available and is connected)."""

    event_type = "TechnicianAvailable"
    aggregate = "technician"
    action = "available"

    technician_id: Id = _id("Technician.", "tec_ana")
    account_id: Id = _id("Account.", "acc_acme")
    display_name: str = Field(default="", description="Shown to customers in SmartMatch lists.")
    company_ids: list[Id] = Field(description="Companies with a portal the technician serves.")
    capacity: int = Field(ge=1, le=50, description="Maximum concurrent chats.")
    sequence: int = Field(ge=1, description="Per-technician change counter; older ones are stale.")


class TechnicianUnavailable(EventPayload):
    """A technician stopped being available for routing."""

    event_type = "TechnicianUnavailable"
    aggregate = "technician"
    action = "unavailable"

    technician_id: Id = _id("Technician.", "tec_ana")
    account_id: Id = _id("Account.", "acc_acme")
    company_ids: list[Id] = Field(description="Companies concerned.")
    reason: UnavailableReason = Field(description="Chosen status or lost connection.")
    sequence: int = Field(ge=1, description="Per-technician change counter; older ones are stale.")


class RequestOffered(EventPayload):
    """A request was offered to technicians; the first to accept gets it."""

    event_type = "RequestOffered"
    aggregate = "request"
    action = "offered"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_ids: list[Id] = Field(min_length=1, description="Technicians who should be alerted.")
    portal_type: PortalType = Field(description="Portal type of the request.")
    customer_name: str = Field(description="For the alert.")
    description: str = Field(default="", description="For the alert.")
    expires_at: datetime = Field(description="When the offer lapses and is made again.")


class RequestOfferWithdrawn(EventPayload):
    """An offer is no longer open to these technicians: their alerts must disappear."""

    event_type = "RequestOfferWithdrawn"
    aggregate = "request"
    action = "offer-withdrawn"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_ids: list[Id] = Field(description="Technicians whose alert is withdrawn.")
    reason: WithdrawalReason = Field(description="Why.")


class RequestQueued(EventPayload):
    """No technician could take a Queue-mode request: it waits, FIFO per company."""

    event_type = "RequestQueued"
    aggregate = "request"
    action = "queued"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    position: int = Field(ge=1, description="1 = next to be served.")
    queued_since: datetime = Field(
        description="FIFO sort key: when the request first joined the queue (kept on re-queue)."
    )


class RequestAssigned(EventPayload):
    """A request now belongs to exactly one technician."""

    event_type = "RequestAssigned"
    aggregate = "request"
    action = "assigned"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_id: Id = _id("The technician who got it.", "tec_ana")
    mode: ConnectionMode = Field(description="Connection mode.")
    portal_type: PortalType = Field(description="Portal type.")
    customer_name: str = Field(description="Customer's name, for the technician.")
    description: str = Field(default="", description="The problem.")
    alert: bool = Field(description="True when the technician must be alerted (Queue mode).")
    assignment: int = Field(
        default=1,
        ge=1,
        description="1 for the first assignment of the request; increases when a Queue-mode "
        "request is re-assigned after an unacknowledged assignment. Older ones are stale.",
    )
    assigned_at: datetime = Field(description="When the claim succeeded.")


class RequestRejected(EventPayload):
    """A request could not be accepted (e.g. invalid or expired connection code)."""

    event_type = "RequestRejected"
    aggregate = "request"
    action = "rejected"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    reason: RejectionReason = Field(description="Machine-readable reason.")
    message: str = Field(description="What the portal shows the customer.")


class RequestCancelled(EventPayload):
    """The customer cancelled the request (at any stage before the chat ended)."""

    event_type = "RequestCancelled"
    aggregate = "request"
    action = "cancelled"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_id: str | None = Field(default=None, description="Assigned technician, if any.")


class ConnectionCodeIssued(EventPayload):
    """A technician generated a Phone-mode connection code (the code itself is not published)."""

    event_type = "ConnectionCodeIssued"
    aggregate = "code"
    action = "issued"

    code_id: Id = _id("Code id.", "cod_1f3b")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company the code is for.", "cmp_globex")
    technician_id: Id = _id("Technician who will take the call.", "tec_ana")
    expires_at: datetime = Field(description="When the code stops working.")


class ConnectionCodeRevoked(EventPayload):
    """A connection code was revoked by its technician before use."""

    event_type = "ConnectionCodeRevoked"
    aggregate = "code"
    action = "revoked"

    code_id: Id = _id("Code id.", "cod_1f3b")
    account_id: Id = _id("Account.", "acc_acme")
    technician_id: Id = _id("Technician.", "tec_ana")


class ChatSessionStarted(EventPayload):
    """A chat session opened between the customer and the assigned technician."""

    event_type = "ChatSessionStarted"
    aggregate = "chat"
    action = "started"

    session_id: Id = _id("Chat session.", "cht_77aa")
    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_id: Id = _id("Technician.", "tec_ana")


class ChatSessionEnded(EventPayload):
    """A chat session ended; the technician's capacity is free again."""

    event_type = "ChatSessionEnded"
    aggregate = "chat"
    action = "ended"

    session_id: Id = _id("Chat session.", "cht_77aa")
    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_id: Id = _id("Technician.", "tec_ana")
    ended_by: EndedBy = Field(description="Who ended it (or abandoned).")
    outcome: SessionOutcome = Field(description="Resolved / Unresolved / Unknown.")


CATALOGUE: tuple[type[EventPayload], ...] = (
    PortalConfigured,
    TechnicianUpdated,
    RequestSubmitted,
    TechnicianAvailable,
    TechnicianUnavailable,
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestAssigned,
    RequestRejected,
    RequestCancelled,
    ConnectionCodeIssued,
    ConnectionCodeRevoked,
    ChatSessionStarted,
    ChatSessionEnded,
)


def payload_type(event_type: str) -> type[EventPayload]:
    """The payload class of an event type name, e.g. `"RequestAssigned"`."""
    for payload in CATALOGUE:
        if payload.event_type == event_type:
            return payload
    raise KeyError(f"unknown event type: {event_type}")

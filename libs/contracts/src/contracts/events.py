"""Every event of the catalogue: past-tense facts, versioned, additive-only."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from contracts.envelope import EventPayload
from contracts.vocabulary import (
    ConnectionMode,
    EndedBy,
    GuestLeftReason,
    PortalStatus,
    PortalType,
    RejectionReason,
    SessionOutcome,
    TransferLapseReason,
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


class RequestAcknowledged(EventPayload):
    """The technician acknowledged their Queue assignment in time: it stays theirs (their
    answer to it; published once, by the write that records the acknowledgement)."""

    event_type = "RequestAcknowledged"
    aggregate = "request"
    action = "acknowledged"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_id: Id = _id("The technician who acknowledged it.", "tec_ana")
    assignment: int = Field(
        default=1,
        ge=1,
        description="Which assignment of the request was acknowledged (as in `RequestAssigned.assignment`).",
    )
    acknowledged_at: datetime = Field(description="When dispatch recorded the acknowledgement.")


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
    reason: str = Field(
        default="customer",
        description="`customer` (the customer cancelled) or `company_deleted` (dispatch, the company was deleted).",
        examples=["customer"],
    )
    message: str = Field(default="", description="What the portal shows the customer, when not their own choice.")


class RequestTransferOffered(EventPayload):
    """The chat's technician offered the request to a colleague of the company, with a note;
    the colleague accepts or declines before `expires_at`, else the chat stays with them."""

    event_type = "RequestTransferOffered"
    aggregate = "request"
    action = "transfer-offered"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    from_technician_id: Id = _id("The chat's technician, who asks for the transfer.", "tec_ana")
    from_name: str = Field(default="", description="Their display name, for the colleague's alert.")
    to_technician_id: Id = _id("The colleague asked to take the chat.", "tec_ben")
    customer_name: str = Field(description="For the colleague's alert.")
    description: str = Field(default="", description="The problem, for the colleague's alert.")
    note: str = Field(default="", max_length=500, description="What the colleague should know (shown to them only).")
    assignment: int = Field(ge=1, description="The assignment being handed over (`RequestAssigned.assignment`).")
    expires_at: datetime = Field(description="When the offer lapses if the colleague has not answered.")


class RequestTransferred(EventPayload):
    """A colleague accepted a transfer: the request (and its chat) now belongs to them, the
    first technician's capacity slot is free, and the assignment number increased."""

    event_type = "RequestTransferred"
    aggregate = "request"
    action = "transferred"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    from_technician_id: Id = _id("Who had the chat.", "tec_ana")
    from_name: str = Field(default="", description="Their display name.")
    to_technician_id: Id = _id("Who has it now.", "tec_ben")
    to_name: str = Field(default="", description="Their display name.")
    note: str = Field(default="", max_length=500, description="The handover note (for technicians only).")
    assignment: int = Field(
        ge=1, description="The new assignment number, one more than the one handed over (older ones are stale)."
    )
    assigned_at: datetime = Field(description="When the colleague's capacity slot was claimed.")


class RequestTransferLapsed(EventPayload):
    """A transfer offer ended without a transfer (declined, expired, or the request moved on):
    the chat stays with the first technician."""

    event_type = "RequestTransferLapsed"
    aggregate = "request"
    action = "transfer-lapsed"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    from_technician_id: Id = _id("The chat's technician, who keeps it.", "tec_ana")
    to_technician_id: Id = _id("The colleague who was asked.", "tec_ben")
    to_name: str = Field(default="", description="Their display name.")
    reason: TransferLapseReason = Field(description="declined, expired, withdrawn or chat_ended.")


class RequestColleagueInvited(EventPayload):
    """The chat's technician invited a colleague of the company to join the same chat (the
    chat stays theirs); the colleague accepts or declines before `expires_at`."""

    event_type = "RequestColleagueInvited"
    aggregate = "request"
    action = "colleague-invited"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    from_technician_id: Id = _id("The chat's technician, who invites.", "tec_ana")
    from_name: str = Field(default="", description="Their display name, for the colleague's alert.")
    to_technician_id: Id = _id("The colleague invited to join.", "tec_ben")
    to_name: str = Field(default="", description="Their display name.")
    customer_name: str = Field(description="For the colleague's alert.")
    description: str = Field(default="", description="The problem, for the colleague's alert.")
    note: str = Field(default="", max_length=500, description="What the colleague should know (shown to them only).")
    assignment: int = Field(ge=1, description="The assignment of the chat (`RequestAssigned.assignment`).")
    expires_at: datetime = Field(description="When the invitation lapses if the colleague has not answered.")


class RequestColleagueJoined(EventPayload):
    """An invited colleague joined the chat: they hold a capacity slot for it and may write in
    it; the chat stays its technician's."""

    event_type = "RequestColleagueJoined"
    aggregate = "request"
    action = "colleague-joined"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_id: Id = _id("The colleague who joined.", "tec_ben")
    name: str = Field(default="", description="Their display name (the customer reads it).")
    invited_by: Id = _id("The chat's technician, who invited them.", "tec_ana")
    joined_at: datetime = Field(description="When their capacity slot was claimed.")
    sequence: int = Field(
        ge=1,
        description="Increases with every join and leave of the request: a reader applies a "
        "colleague's join or leave only when newer than the last one it applied for them.",
    )
    technicians: int = Field(ge=2, description="Technicians in the chat now, its technician included.", examples=[2])


class RequestColleagueLeft(EventPayload):
    """A colleague who had joined the chat is no longer in it; their slot is free."""

    event_type = "RequestColleagueLeft"
    aggregate = "request"
    action = "colleague-left"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_id: Id = _id("The colleague who left.", "tec_ben")
    name: str = Field(default="", description="Their display name.")
    reason: GuestLeftReason = Field(description="left (their choice) or chat_ended.")
    sequence: int = Field(ge=1, description="As in `RequestColleagueJoined.sequence`.")
    technicians: int = Field(ge=0, description="Technicians still in the chat, its technician included (0: ended).")


class RequestInvitationLapsed(EventPayload):
    """An invitation to join a chat ended without the colleague joining (declined, expired,
    or the chat ended)."""

    event_type = "RequestInvitationLapsed"
    aggregate = "request"
    action = "invitation-lapsed"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    from_technician_id: Id = _id("The chat's technician, who invited.", "tec_ana")
    to_technician_id: Id = _id("The colleague who was invited.", "tec_ben")
    to_name: str = Field(default="", description="Their display name.")
    reason: TransferLapseReason = Field(description="declined, expired, withdrawn or chat_ended.")


class RequestReturnedToQueue(EventPayload):
    """The chat's technician sent the request back to the company's technicians: Queue mode,
    to the head of the queue (they are passed over once); Web mode, offered again to the
    others. Their slot is free; the chat stays open and goes to whoever is assigned next
    (a `RequestAssigned` with a higher `assignment`)."""

    event_type = "RequestReturnedToQueue"
    aggregate = "request"
    action = "returned"

    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    from_technician_id: Id = _id("The technician who sent it back.", "tec_ana")
    from_name: str = Field(default="", description="Their display name.")
    mode: ConnectionMode = Field(description="Connection mode (Queue or Web).")
    note: str = Field(default="", max_length=500, description="For the next technician (technicians only).")
    assignment: int = Field(ge=1, description="The assignment that ended (the next one is higher).")


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


class ChatSessionRated(EventPayload):
    """The customer rated a finished chat session (once per session): 1 to 5, with an optional
    comment. The comment stays in chat-svc; this says only the score, for read models."""

    event_type = "ChatSessionRated"
    aggregate = "chat"
    action = "rated"

    session_id: Id = _id("Chat session.", "cht_77aa")
    request_id: Id = _id("Request.", "req_8c1d")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_id: Id = _id("Technician the session was last assigned to.", "tec_ana")
    score: int = Field(ge=1, le=5, description="1 (bad) to 5 (excellent).", examples=[5])
    has_comment: bool = Field(default=False, description="Whether the customer also wrote a comment.")
    rated_at: datetime = Field(description="When the rating was given (UTC).")


class CompanyUpdated(EventPayload):
    """A company of an account was created, renamed or deleted (portal-svc owns companies)."""

    event_type = "CompanyUpdated"
    aggregate = "company"
    action = "updated"

    company_id: Id = _id("Company.", "cmp_globex")
    account_id: Id = _id("Account owning it.", "acc_acme")
    name: str = Field(description="Its current name (the last one, once deleted).", examples=["Globex"])
    deleted: bool = Field(default=False, description="True once the company is deleted; nothing follows it.")
    revision: int = Field(ge=1, description="Increases with each change; stale events are ignored.")


class WebhookEndpointDisabled(EventPayload):
    """webhook-svc disabled a webhook endpoint after a long streak of failed deliveries; the
    account's admins should fix the receiver and enable it again."""

    event_type = "WebhookEndpointDisabled"
    aggregate = "webhook"
    action = "endpoint-disabled"

    endpoint_id: Id = _id("Webhook endpoint.", "whe_3k9z")
    account_id: Id = _id("Account owning the endpoint.", "acc_acme")
    url: str = Field(description="Where the deliveries were sent.", examples=["https://crm.example.com/hooks"])
    consecutive_failures: int = Field(ge=1, description="Failed attempts in a row when it was disabled.")
    failing_since: datetime = Field(description="When the streak of failures began.")
    last_error: str = Field(default="", description="What the last attempt got (status or error).")


class OfflineMessageLeft(EventPayload):
    """A customer left a message instead of waiting (portal closed, nobody available, or a long wait).

    The message's text and the customer's address stay in portal-svc; this says only that
    there is one, for whom."""

    event_type = "OfflineMessageLeft"
    aggregate = "message"
    action = "left"

    message_id: Id = _id("Offline message id.", "msg_5d1e")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company the message is for.", "cmp_globex")
    portal_id: Id = _id("Portal it was left at.", "prt_4f2a")
    reason: str = Field(description="closed, no_technician, long_wait or customer_choice.", examples=["closed"])
    request_id: str | None = Field(default=None, description="The request the customer gave up on, if any.")
    left_at: datetime = Field(description="When it was left.")


class OfflineMessageAnswered(EventPayload):
    """A technician answered an offline message by e-mail (portal-svc sends it)."""

    event_type = "OfflineMessageAnswered"
    aggregate = "message"
    action = "answered"

    message_id: Id = _id("Offline message id.", "msg_5d1e")
    account_id: Id = _id("Account.", "acc_acme")
    company_id: Id = _id("Company.", "cmp_globex")
    technician_id: Id = _id("Technician who answered.", "tec_ana")
    answered_at: datetime = Field(description="When the answer was written.")


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
    RequestAcknowledged,
    RequestRejected,
    RequestCancelled,
    RequestTransferOffered,
    RequestTransferred,
    RequestTransferLapsed,
    RequestColleagueInvited,
    RequestColleagueJoined,
    RequestColleagueLeft,
    RequestInvitationLapsed,
    RequestReturnedToQueue,
    ConnectionCodeIssued,
    ConnectionCodeRevoked,
    ChatSessionStarted,
    ChatSessionEnded,
    ChatSessionRated,
    WebhookEndpointDisabled,
    OfflineMessageLeft,
    OfflineMessageAnswered,
    CompanyUpdated,
)


def payload_type(event_type: str) -> type[EventPayload]:
    """The payload class of an event type name, e.g. `"RequestAssigned"`."""
    for payload in CATALOGUE:
        if payload.event_type == event_type:
            return payload
    raise KeyError(f"unknown event type: {event_type}")

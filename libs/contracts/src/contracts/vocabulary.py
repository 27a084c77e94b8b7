"""Enumerations shared by events and services (the product's vocabulary)."""

from enum import StrEnum


class ConnectionMode(StrEnum):
    WEB = "web"
    PHONE = "phone"
    QUEUE = "queue"


class PortalType(StrEnum):
    SMART_BOX = "smart_box"
    SMART_BUTTON = "smart_button"
    SMART_MATCH = "smart_match"
    SMART_PIN = "smart_pin"


ALLOWED_PORTAL_TYPES: dict[ConnectionMode, frozenset[PortalType]] = {
    ConnectionMode.WEB: frozenset({PortalType.SMART_BOX, PortalType.SMART_BUTTON, PortalType.SMART_MATCH}),
    ConnectionMode.PHONE: frozenset({PortalType.SMART_PIN}),
    ConnectionMode.QUEUE: frozenset({PortalType.SMART_BOX}),
}


class PortalStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class UnavailableReason(StrEnum):
    CHOSEN = "chosen"
    """The technician chose *Unavailable for chat requests*."""
    DISCONNECTED = "disconnected"
    """The help center lost its connection for longer than the grace period."""
    ACCESS_REVOKED = "access_revoked"
    MISSED_REQUESTS = "missed_requests"
    """Too many offers or Queue assignments in a row went unanswered: presence-svc set the
    technician unavailable until they choose Available again."""


class RejectionReason(StrEnum):
    INVALID_CODE = "invalid_code"
    EXPIRED_CODE = "expired_code"
    USED_CODE = "used_code"
    TECHNICIAN_UNAVAILABLE = "technician_unavailable"
    PORTAL_INACTIVE = "portal_inactive"


class WithdrawalReason(StrEnum):
    TAKEN = "taken"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    TECHNICIAN_UNAVAILABLE = "technician_unavailable"


class TransferLapseReason(StrEnum):
    """Why a pending hand-over (a transfer or an invitation to join) ended without happening."""

    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    """The request moved on first (the colleague became unavailable, …)."""
    CHAT_ENDED = "chat_ended"
    """The chat ended while the colleague had not answered yet."""


class GuestLeftReason(StrEnum):
    """Why a colleague invited into a chat is no longer in it."""

    LEFT = "left"
    """They chose to leave."""
    CHAT_ENDED = "chat_ended"
    """The chat ended with them still in it."""


class SessionOutcome(StrEnum):
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    UNKNOWN = "unknown"


class EndedBy(StrEnum):
    TECHNICIAN = "technician"
    CUSTOMER = "customer"
    ABANDONED = "abandoned"

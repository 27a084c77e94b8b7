"""The events dispatch publishes about a request, built from the stored request."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contracts import (
    RequestAcknowledged,
    RequestAssigned,
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestRejected,
)
from contracts.vocabulary import RejectionReason, WithdrawalReason
from dispatch_svc.domain.codes import REJECTION_MESSAGES

Request = Mapping[str, Any]


def _about(request: Request) -> dict[str, str]:
    return {
        "request_id": request["_id"],
        "account_id": request["account_id"],
        "company_id": request["company_id"],
    }


def offered(request: Request, technician_ids: list[str], expires_at: datetime) -> RequestOffered:
    return RequestOffered(
        **_about(request),
        technician_ids=technician_ids,
        portal_type=request["portal_type"],
        customer_name=request["customer_name"],
        description=request.get("description", ""),
        expires_at=expires_at,
    )


def withdrawn(request: Request, technician_ids: list[str], reason: WithdrawalReason) -> RequestOfferWithdrawn:
    return RequestOfferWithdrawn(**_about(request), technician_ids=technician_ids, reason=reason)


def queued(request: Request, position: int) -> RequestQueued:
    return RequestQueued(**_about(request), position=position, queued_since=request["queued_since"])


def assigned(request: Request, changes: Mapping[str, Any], *, alert: bool) -> RequestAssigned:
    """`changes` are the fields of the assignment (`domain.request.assign`)."""
    return RequestAssigned(
        **_about(request),
        technician_id=changes["technician_id"],
        mode=request["mode"],
        portal_type=request["portal_type"],
        customer_name=request["customer_name"],
        description=request.get("description", ""),
        alert=alert,
        assignment=changes["assignment"],
        assigned_at=changes["assigned_at"],
    )


def acknowledged(request: Request, at: datetime) -> RequestAcknowledged:
    """`request` is the assignment as read before the acknowledgement."""
    return RequestAcknowledged(
        **_about(request),
        technician_id=request["technician_id"],
        assignment=int(request.get("assignment", 1)),
        acknowledged_at=at,
    )


def rejected(request: Request, reason: RejectionReason, message: str | None = None) -> RequestRejected:
    return RequestRejected(**_about(request), reason=reason, message=message or REJECTION_MESSAGES[reason])

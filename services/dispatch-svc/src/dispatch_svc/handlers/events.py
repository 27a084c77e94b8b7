"""Events built from a stored request."""

from datetime import datetime
from typing import Any

from contracts import (
    RequestAssigned,
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestRejected,
)
from contracts.vocabulary import RejectionReason, WithdrawalReason

from dispatch_svc.domain.rules import REJECTION_MESSAGES

Doc = dict[str, Any]


def _about(request: Doc) -> dict[str, str]:
    return {
        "request_id": request["_id"],
        "account_id": request["account_id"],
        "company_id": request["company_id"],
    }


def offered(request: Doc, technician_ids: list[str], expires_at: datetime) -> RequestOffered:
    return RequestOffered(
        **_about(request),
        technician_ids=technician_ids,
        portal_type=request["portal_type"],
        customer_name=request["customer_name"],
        description=request.get("description", ""),
        expires_at=expires_at,
    )


def withdrawn(request: Doc, technician_ids: list[str], reason: WithdrawalReason) -> RequestOfferWithdrawn:
    return RequestOfferWithdrawn(**_about(request), technician_ids=technician_ids, reason=reason)


def queued(request: Doc, position: int) -> RequestQueued:
    return RequestQueued(**_about(request), position=position, queued_since=request["queued_since"])


def assigned(request: Doc, technician_id: str, *, alert: bool, assignment: int, at: datetime) -> RequestAssigned:
    return RequestAssigned(
        **_about(request),
        technician_id=technician_id,
        mode=request["mode"],
        portal_type=request["portal_type"],
        customer_name=request["customer_name"],
        description=request.get("description", ""),
        alert=alert,
        assignment=assignment,
        assigned_at=at,
    )


def rejected(request: Doc, reason: RejectionReason, message: str | None = None) -> RequestRejected:
    return RequestRejected(**_about(request), reason=reason, message=message or REJECTION_MESSAGES[reason])

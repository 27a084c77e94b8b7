"""Connection codes: drawing one, and deciding whether one connects a request."""

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contracts.vocabulary import RejectionReason

REJECTION_MESSAGES: dict[RejectionReason, str] = {
    RejectionReason.INVALID_CODE: "This connection code is not valid. Check the 9 digits with your technician.",
    RejectionReason.EXPIRED_CODE: "This connection code has expired. Ask your technician for a new one.",
    RejectionReason.USED_CODE: "This connection code was already used. Ask your technician for a new one.",
    RejectionReason.TECHNICIAN_UNAVAILABLE: "The technician is not available right now. Please try again later.",
    RejectionReason.PORTAL_INACTIVE: "Service unavailable — we apologise for this temporary inconvenience.",
}

TOO_MANY_WRONG_CODES = "Too many wrong connection codes were entered. Please wait a minute, then try again."


def new_code() -> str:
    """A random 9-digit connection code (leading zeros allowed)."""
    return f"{secrets.randbelow(10**9):09d}"


def failure_window(now: datetime, window_seconds: float) -> int:
    return int(now.timestamp() // window_seconds)


def retired_status(code: Mapping[str, Any]) -> str:
    return "revoked" if code.get("revoked") else "used" if code.get("used_by") else "expired"


def classify_code(
    live: Mapping[str, Any] | None,
    retired: Mapping[str, Any] | None,
    *,
    company_id: str,
    request_id: str,
    now: datetime,
) -> RejectionReason | None:
    """Why a connection code cannot connect this request, or None when it can.

    `live` is the code among live codes, `retired` its latest retired namesake.
    """
    if live is not None:
        if live["company_id"] != company_id or live.get("revoked"):
            return RejectionReason.INVALID_CODE
        if live.get("used_by") not in (None, request_id):
            return RejectionReason.USED_CODE
        if live.get("used_by") is None and live["expires_at"] <= now:
            return RejectionReason.EXPIRED_CODE
        return None
    if retired is None or retired["company_id"] != company_id:
        return RejectionReason.INVALID_CODE
    if retired.get("used_by") == request_id:
        return None
    return {
        "used": RejectionReason.USED_CODE,
        "expired": RejectionReason.EXPIRED_CODE,
    }.get(retired.get("status", ""), RejectionReason.INVALID_CODE)

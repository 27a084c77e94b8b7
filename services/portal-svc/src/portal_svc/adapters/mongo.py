"""What every repository of portal-svc shares."""

from typing import Any

from pymongo.errors import DuplicateKeyError

Doc = dict[str, Any]
HIDDEN = {"_outbox": 0, "_outbox_lease": 0, "_seen_events": 0}
"""Bookkeeping fields a read never needs (the outbox's and `consume_once`'s)."""


def duplicate_field(error: DuplicateKeyError) -> str:
    """Which unique key a write collided on (servers word this differently)."""
    details = error.details or {}
    for key in ("keyPattern", "keyValue"):
        if isinstance(details.get(key), dict) and details[key]:
            return str(next(iter(details[key])))
    text = str(error)
    for name in ("subdomain", "company_id", "email", "_id"):
        if name in text:
            return name
    return "_id"

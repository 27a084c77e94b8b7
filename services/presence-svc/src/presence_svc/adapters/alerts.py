"""The `alerts` collection: one document per (request, technician), open or closed.

Closed alerts stay (until `purge_at`, a TTL index) as tombstones with the time of the fact
that closed them, so that an offer event arriving late or twice — queues are consumed
independently, so RequestOffered and RequestOfferWithdrawn may cross — never alerts again.
A request-wide tombstone remembers cancellations for the same reason.

An alert that is to be e-mailed carries the e-mail in the same document (`email_state`
pending → sent), written in the same write that opens the alert: a crash between recording
and sending leaves it pending, and the retry tick sends it later.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from presence_svc.domain.alerts import Alert, AlertKind, PendingEmail

PENDING = "pending"
SENT = "sent"
DROPPED = "dropped"
MAX_EMAIL_ATTEMPTS = 20
"""After this many tries (one per retry tick) an e-mail is given up."""


def _key(request_id: str, technician_id: str) -> str:
    return f"{request_id}:{technician_id}"


def _cancelled_key(request_id: str) -> str:
    return f"{request_id}:*cancelled"


def _alert(doc: dict[str, Any]) -> Alert:
    return Alert(
        request_id=doc["request_id"],
        technician_id=doc["technician_id"],
        account_id=doc["account_id"],
        company_id=doc["company_id"],
        customer_name=doc["customer_name"],
        description=doc["description"],
        portal_type=doc["portal_type"],
        expires_at=doc["expires_at"],
        kind=AlertKind(doc["kind"]),
        issued_at=doc["issued_at"],
    )


class AlertRepository:
    def __init__(self, collection: AsyncCollection, *, retention: timedelta) -> None:
        self.collection = collection
        self.retention = retention

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("purge_at", ASCENDING)], expireAfterSeconds=0)
        await self.collection.create_index([("request_id", ASCENDING)])
        await self.collection.create_index([("technician_id", ASCENDING)])
        await self.collection.create_index([("email_state", ASCENDING), ("email_due", ASCENDING)], sparse=True)

    def _purge_at(self, after: datetime | None) -> datetime:
        return max(after or datetime.now(UTC), datetime.now(UTC)) + self.retention

    async def open(self, alert: Alert, *, email_to: list[str], email_due: datetime) -> bool:
        """Open (or re-open, for a newer offer) an alert; False when it is stale or a repeat.

        With `email_to`, the alert's e-mail is recorded as pending in the same write, due for
        a retry at `email_due` unless it is confirmed sent before."""
        email: dict[str, Any] = (
            {"email_state": PENDING, "email_id": alert.message_id, "email_to": email_to, "email_due": email_due}
            if email_to
            else {"email_state": None}
        )
        if await self.collection.find_one({"_id": _cancelled_key(alert.request_id)}, {"_id": 1}):
            return False
        try:
            await self.collection.update_one(
                {"_id": _key(alert.request_id, alert.technician_id), "issued_at": {"$lt": alert.issued_at}},
                {
                    "$set": {
                        "request_id": alert.request_id,
                        "technician_id": alert.technician_id,
                        "account_id": alert.account_id,
                        "company_id": alert.company_id,
                        "customer_name": alert.customer_name,
                        "description": alert.description,
                        "portal_type": alert.portal_type,
                        "expires_at": alert.expires_at,
                        "kind": alert.kind.value,
                        "issued_at": alert.issued_at,
                        "open": True,
                        "purge_at": self._purge_at(alert.expires_at),
                        "email_attempts": 0,
                        **email,
                    },
                    "$unset": {"closed_reason": ""},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def close(self, request_id: str, technician_id: str, *, reason: str, at: datetime) -> bool:
        """Close the alert if it predates `at`; True when an open alert was closed."""
        try:
            before = await self.collection.find_one_and_update(
                {"_id": _key(request_id, technician_id), "issued_at": {"$lte": at}},
                {
                    "$set": {
                        "request_id": request_id,
                        "technician_id": technician_id,
                        "issued_at": at,
                        "open": False,
                        "closed_reason": reason,
                        "purge_at": self._purge_at(None),
                    }
                },
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
        except DuplicateKeyError:
            return False  # a newer offer was made after this withdrawal: it stays
        return bool(before and before.get("open"))

    async def mark_cancelled(self, request_id: str, at: datetime) -> None:
        await self.collection.update_one(
            {"_id": _cancelled_key(request_id)},
            {"$set": {"request_id": "", "issued_at": at, "open": False, "purge_at": self._purge_at(None)}},
            upsert=True,
        )

    async def open_for_request(self, request_id: str) -> list[str]:
        """Technicians holding an open alert for this request."""
        cursor = self.collection.find({"request_id": request_id, "open": True}, {"technician_id": 1})
        return [doc["technician_id"] async for doc in cursor]

    async def open_for_technician(self, technician_id: str) -> list[Alert]:
        cursor = self.collection.find({"technician_id": technician_id, "open": True}).sort("issued_at", ASCENDING)
        return [_alert(doc) async for doc in cursor]

    async def email_sent(self, email: PendingEmail) -> bool:
        """Mark the e-mail sent, if it is still this alert's pending e-mail."""
        result = await self.collection.update_one(
            {
                "_id": _key(email.alert.request_id, email.alert.technician_id),
                "email_id": email.message_id,
                "email_state": PENDING,
            },
            {"$set": {"email_state": SENT, "email_sent_at": datetime.now(UTC)}},
        )
        return result.modified_count == 1

    async def drop_email(self, email: PendingEmail) -> None:
        await self.collection.update_one(
            {"_id": _key(email.alert.request_id, email.alert.technician_id), "email_id": email.message_id},
            {"$set": {"email_state": DROPPED}},
        )

    async def claim_due_email(self, now: datetime, *, retry_at: datetime) -> PendingEmail | None:
        """One pending e-mail of an open alert due by `now`; moved to `retry_at` so that no
        other tick takes it meanwhile."""
        doc = await self.collection.find_one_and_update(
            {
                "email_state": PENDING,
                "email_due": {"$lte": now},
                "email_attempts": {"$lt": MAX_EMAIL_ATTEMPTS},
                "open": True,
            },
            {"$set": {"email_due": retry_at}, "$inc": {"email_attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        return PendingEmail(_alert(doc), tuple(doc["email_to"]), doc["email_id"])

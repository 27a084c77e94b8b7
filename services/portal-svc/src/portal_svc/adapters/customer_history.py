"""The `customer_history` collection: for each customer e-mail of an account, their latest
requests (a bounded list), so the technician's customer panel finds earlier requests with
one read by `_id` — never a scan of the growing request history.

Fed by our own `RequestSubmitted` events; a redelivery finds the request already listed and
changes nothing.
"""

from contextlib import suppress

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from portal_svc.adapters.mongo import Doc

KEPT = 20
"""Requests remembered per customer e-mail (the newest)."""


def customer_key(account_id: str, email: str) -> str:
    return f"{account_id}:{email.strip().lower()}"


class CustomerHistoryRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self._history = collection

    async def ensure_indexes(self) -> None:
        """Addressed by `_id` only."""

    async def record(self, account_id: str, email: str, entry: Doc) -> None:
        key = customer_key(account_id, email)
        # Already listed: the filter misses and the upsert's insert collides with `_id`.
        with suppress(DuplicateKeyError):
            await self._history.update_one(
                {"_id": key, "requests.request_id": {"$ne": entry["request_id"]}},
                {"$push": {"requests": {"$each": [entry], "$slice": -KEPT}}},
                upsert=True,
            )

    async def of(self, account_id: str, email: str) -> list[Doc]:
        doc = await self._history.find_one({"_id": customer_key(account_id, email)})
        return list(doc["requests"]) if doc else []

"""What dispatch remembers of portals: whether each one still accepts requests.

Reads are served from a short-lived in-process copy: every submission asks, portals change
rarely, and the worker that consumes a `PortalConfigured` updates its copy at once. Another
worker may route a request up to `ttl` seconds after a portal was made inactive — no worse
than the race between the two events' queues, and portal-svc refuses such submissions itself.
"""

import time
from contextlib import suppress
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from dispatch_svc.adapters.technicians import newer

Doc = dict[str, Any]


class PortalRepository:
    def __init__(self, collection: AsyncCollection, *, ttl: float = 10.0) -> None:
        self.collection = collection
        self._ttl = ttl
        self._copies: dict[str, tuple[float, Doc | None]] = {}

    async def ensure_indexes(self) -> None:
        """By `_id` for routing; by company for the connection-code check (one portal per company)."""
        await self.collection.create_index("company_id")

    async def modes_of(self, company_ids: list[str]) -> dict[str, str]:
        """The connection mode of each company's portal, for the companies that have one."""
        found = self.collection.find({"company_id": {"$in": company_ids}}, {"company_id": 1, "mode": 1})
        return {doc["company_id"]: doc["mode"] async for doc in found if doc.get("mode")}

    async def record(self, portal_id: str, revision: int, fields: Doc) -> None:
        # DuplicateKeyError: a newer revision is already stored.
        with suppress(DuplicateKeyError):
            await self.collection.update_one(
                {"_id": portal_id, **newer("revision", revision)},
                {"$set": {**fields, "revision": revision}},
                upsert=True,
            )
        self._copies.pop(portal_id, None)

    async def get(self, portal_id: str) -> Doc | None:
        copy = self._copies.get(portal_id)
        if copy is not None and time.monotonic() - copy[0] < self._ttl:
            return copy[1]
        portal = await self.collection.find_one({"_id": portal_id})
        self._copies[portal_id] = (time.monotonic(), portal)
        return portal

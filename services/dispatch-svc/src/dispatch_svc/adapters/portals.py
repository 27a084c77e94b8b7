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
        self._modes: dict[str, tuple[float, str | None]] = {}

    async def ensure_indexes(self) -> None:
        """By `_id` for routing; by company for the connection-code check (one portal per company)."""
        await self.collection.create_index("company_id")

    async def modes_of(self, company_ids: list[str]) -> dict[str, str]:
        """The connection mode of each company's portal, for the companies that have one
        (from the same short-lived copy: a code issued for a company and the submission that
        uses it ask for the same portal)."""
        fresh = {c: self._modes[c] for c in company_ids if c in self._modes and self._fresh(self._modes[c][0])}
        missing = [c for c in company_ids if c not in fresh]
        if missing:
            read_at = time.monotonic()
            modes = {}
            async for portal in self.collection.find({"company_id": {"$in": missing}}):
                modes[portal["company_id"]] = portal.get("mode")
                self._copies[portal["_id"]] = (read_at, portal)  # the submission to come asks for it
            for company_id in missing:
                fresh[company_id] = self._modes[company_id] = (read_at, modes.get(company_id))
        return {c: mode for c, (_, mode) in fresh.items() if mode}

    def _fresh(self, read_at: float) -> bool:
        return time.monotonic() - read_at < self._ttl

    async def record(self, portal_id: str, revision: int, fields: Doc) -> None:
        # DuplicateKeyError: a newer revision is already stored.
        with suppress(DuplicateKeyError):
            await self.collection.update_one(
                {"_id": portal_id, **newer("revision", revision)},
                {"$set": {**fields, "revision": revision}},
                upsert=True,
            )
        self._copies.pop(portal_id, None)
        self._modes.pop(fields.get("company_id", ""), None)

    async def get(self, portal_id: str) -> Doc | None:
        copy = self._copies.get(portal_id)
        if copy is not None and self._fresh(copy[0]):
            return copy[1]
        read_at = time.monotonic()
        portal = await self.collection.find_one({"_id": portal_id})
        self._copies[portal_id] = (read_at, portal)
        if portal is not None:
            self._modes[portal["company_id"]] = (read_at, portal.get("mode"))
        return portal

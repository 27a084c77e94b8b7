"""The `portals` collection: which companies have a portal, and whether it is active."""

import time
from collections.abc import Callable, Iterable

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from contracts import PortalConfigured
from contracts.vocabulary import PortalStatus

RECENT_SECONDS = 5.0
"""How long a portal's state this process read or saved is good enough for what the help
centers are shown (not for routing, which always reads the store)."""


class PortalRepository:
    def __init__(
        self,
        collection: AsyncCollection,
        *,
        recent_seconds: float = RECENT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.collection = collection
        self.recent_seconds = recent_seconds
        self.clock = clock
        self._recent: dict[str, tuple[float, bool | None]] = {}
        """company id -> (when known, active; None: no portal). Bounded: companies, not requests."""

    async def ensure_indexes(self) -> None:
        """Nothing beyond `_id` (the company id): every query is by company."""

    async def save(self, event: PortalConfigured) -> bool:
        """Store a newer revision of a company's portal; False for a stale or repeated event."""
        try:
            await self.collection.update_one(
                # One portal per company; a newer portal id or revision replaces the older.
                {"_id": event.company_id, "revision": {"$lt": event.revision}},
                {
                    "$set": {
                        "portal_id": event.portal_id,
                        "account_id": event.account_id,
                        "status": event.status.value,
                        "revision": event.revision,
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        # This replica's help centers see the change at once; the others' within `recent_seconds`.
        self._recent[event.company_id] = (self.clock(), event.status is PortalStatus.ACTIVE)
        return True

    async def companies_with_portal(self, company_ids: Iterable[str]) -> dict[str, bool]:
        """company id -> whether its portal is active, for those that have one (read now)."""
        ids = list(company_ids)
        if not ids:
            return {}
        cursor = self.collection.find({"_id": {"$in": ids}}, {"status": 1})
        found = {doc["_id"]: doc["status"] == PortalStatus.ACTIVE.value async for doc in cursor}
        now = self.clock()
        for company_id in ids:
            self._recent[company_id] = (now, found.get(company_id))
        return found

    async def recent_companies_with_portal(self, company_ids: Iterable[str]) -> dict[str, bool]:
        """The same, as known at most `recent_seconds` ago: for display only (a status frame
        on every assignment and chat end must not read the portals each time)."""
        ids = list(company_ids)
        known = [self._recent.get(company_id) for company_id in ids]
        oldest = self.clock() - self.recent_seconds
        if any(entry is None or entry[0] < oldest for entry in known):
            return await self.companies_with_portal(ids)
        return {c: entry[1] for c, entry in zip(ids, known, strict=True) if entry is not None and entry[1] is not None}

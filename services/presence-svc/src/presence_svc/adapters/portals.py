"""The `portals` collection: which companies have a portal, and whether it is active."""

from collections.abc import Iterable

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from contracts import PortalConfigured
from contracts.vocabulary import PortalStatus


class PortalRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

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
        return True

    async def companies_with_portal(self, company_ids: Iterable[str]) -> dict[str, bool]:
        """company id -> whether its portal is active, for those that have one."""
        ids = list(company_ids)
        if not ids:
            return {}
        cursor = self.collection.find({"_id": {"$in": ids}}, {"status": 1})
        return {doc["_id"]: doc["status"] == PortalStatus.ACTIVE.value async for doc in cursor}

"""The `dashboard_live` collection: one document per company, the desk as it is now (see
`domain.dashboard_live`). Every event is one conditional upsert by `_id`; a stale or repeated
event matches nothing and its upsert collides with the existing `_id` (DuplicateKeyError),
which is exactly "nothing to change". Reads are one `find_one` by `_id`.
"""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from portal_svc.domain.dashboard_live import Stage, order_key, stale_tombstones


class DashboardLiveRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        """Addressed by `_id` only (one document per company)."""

    async def _apply(self, company_id: str, account_id: str, path: str, key: int, update: dict[str, Any]) -> bool:
        newer = {"$or": [{f"{path}.key": {"$exists": False}}, {f"{path}.key": {"$lt": key}}]}
        update.setdefault("$set", {})[f"{path}.key"] = key
        update["$setOnInsert"] = {"account_id": account_id}
        try:
            result = await self.collection.update_one({"_id": company_id, **newer}, update, upsert=True)
        except DuplicateKeyError:
            return False
        return result.modified_count == 1 or result.upserted_id is not None

    async def move_request(
        self,
        company_id: str,
        account_id: str,
        request_id: str,
        stage: Stage,
        at: datetime,
        *,
        since: datetime | None = None,
        technician_id: str | None = None,
    ) -> bool:
        """Move the request's entry to `stage` unless a later move is already stored."""
        path = f"requests.{request_id}"
        fields: dict[str, Any] = {f"{path}.stage": stage.value, f"{path}.at": at}
        if technician_id:
            fields[f"{path}.technician_id"] = technician_id
        update: dict[str, Any] = {"$set": fields}
        if since is not None:
            update["$min"] = {f"{path}.since": since}
        return await self._apply(company_id, account_id, path, order_key(stage, at), update)

    async def technician(self, company_id: str, account_id: str, technician_id: str, state: str, sequence: int) -> bool:
        """Store a technician's state unless a later one (by presence's sequence) is stored."""
        path = f"technicians.{technician_id}"
        return await self._apply(company_id, account_id, path, sequence, {"$set": {f"{path}.state": state}})

    async def get(self, company_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": company_id})

    async def prune(self, now: datetime) -> int:
        """Drop old tombstones. The collection holds one document per company: bounded."""
        pruned = 0
        async for doc in self.collection.find({}, {"requests": 1}):
            stale = stale_tombstones(doc, now)
            if stale:
                # Request ids are never reused: a tombstone this old cannot be revived.
                unset = {f"requests.{request_id}": "" for request_id in stale}
                await self.collection.update_one({"_id": doc["_id"]}, {"$unset": unset})
                pruned += len(stale)
        return pruned

"""The `technicians` collection: chat-svc's record of each technician's access, fed by
`TechnicianUpdated` and applied only when its revision is newer than the one stored."""

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from chat_svc.adapters.revisions import save_if_newer
from chat_svc.domain.technicians import TechnicianAccess
from contracts import TechnicianUpdated


def to_access(document: dict[str, Any]) -> TechnicianAccess:
    return TechnicianAccess(
        technician_id=document["_id"],
        account_id=document["account_id"],
        company_ids=frozenset(document.get("company_ids", ())),
        enabled=document["enabled"],
        revision=document["revision"],
    )


class TechnicianRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        # Every query is by `_id`: no secondary index.
        return None

    async def get(self, technician_id: str) -> TechnicianAccess | None:
        document = await self.collection.find_one({"_id": technician_id})
        return to_access(document) if document else None

    async def save(self, event: TechnicianUpdated) -> bool:
        """Store a newer revision; False for a stale or repeated event."""
        fields = {"account_id": event.account_id, "company_ids": list(event.company_ids), "enabled": event.enabled}
        return await save_if_newer(self.collection, event.technician_id, event.revision, fields)

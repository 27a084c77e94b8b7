"""The `companies` collection: chat-svc's copy of each company's name, for `{company_name}`
in canned replies, fed by `CompanyUpdated` and applied only when its revision is newer.

A deleted company keeps its last name (past chats still show it) under `deleted`, so a
stale rename delivered after the deletion cannot bring it back. One small document per
company, read by `_id`.
"""

from pymongo.asynchronous.collection import AsyncCollection

from chat_svc.adapters.revisions import save_if_newer
from contracts import CompanyUpdated


class CompanyRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        # Every query is by `_id`: no secondary index.
        return None

    async def save(self, event: CompanyUpdated) -> bool:
        """Store a newer revision; False for a stale or repeated event."""
        fields = {"account_id": event.account_id, "name": event.name, "deleted": event.deleted}
        return await save_if_newer(self.collection, event.company_id, event.revision, fields)

    async def names(self, company_ids: list[str]) -> dict[str, str]:
        found = self.collection.find({"_id": {"$in": company_ids}}, {"name": 1})
        return {doc["_id"]: doc["name"] async for doc in found}

"""Read models fed by revision-numbered events (`TechnicianUpdated`, `CompanyUpdated`): a
document takes an event's fields only when the event's revision is newer than its own."""

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


async def save_if_newer(collection: AsyncCollection, doc_id: str, revision: int, fields: dict[str, Any]) -> bool:
    """Store `fields` at `revision`; False for a stale or repeated event."""
    try:
        result = await collection.update_one(
            {"_id": doc_id, "revision": {"$lt": revision}}, {"$set": {**fields, "revision": revision}}, upsert=True
        )
    except DuplicateKeyError:
        return False  # stored already with this revision or a newer one (the upsert collided)
    return result.modified_count == 1 or result.upserted_id is not None

"""The `status_history` collection: one bucket per technician and UTC day, by `_id`.

Appending is one upsert by `_id`; a page reads the few buckets it needs by `_id`. Buckets
carry `expires_at` (their day's end + the retention): a TTL index removes them on a real
MongoDB, and the periodic `purge` on the embedded store (off every hot path).
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from presence_svc.domain.status_history import Actor, StatusEntry, bucket_id


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class StatusHistoryRepository:
    def __init__(self, collection: AsyncCollection, *, retention: timedelta) -> None:
        self.collection = collection
        self.retention = retention

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("expires_at", ASCENDING)], expireAfterSeconds=0)

    async def append(self, technician_id: str, entry: StatusEntry) -> str:
        """Add an entry to its day's bucket; the day (ISO)."""
        day = entry.at.astimezone(UTC).date()
        await self.collection.update_one(
            {"_id": bucket_id(technician_id, day)},
            {
                "$push": {"entries": _entry_doc(entry)},
                "$setOnInsert": {
                    "technician_id": technician_id,
                    "day": day.isoformat(),
                    "expires_at": datetime.combine(day + timedelta(days=1), time(), UTC) + self.retention,
                },
            },
            upsert=True,
        )
        return day.isoformat()

    async def day(self, technician_id: str, day: date) -> list[StatusEntry]:
        doc = await self.collection.find_one({"_id": bucket_id(technician_id, day)}, {"entries": 1})
        return [_entry(raw) for raw in (doc or {}).get("entries", [])]

    async def purge(self, now: datetime | None = None) -> int:
        """Delete buckets past their retention (periodic)."""
        result = await self.collection.delete_many({"expires_at": {"$lt": now or datetime.now(UTC)}})
        return result.deleted_count


def _entry_doc(entry: StatusEntry) -> dict[str, Any]:
    return {"at": entry.at, "state": entry.state, "actor": entry.actor.value, "actor_id": entry.actor_id}


def _entry(raw: dict[str, Any]) -> StatusEntry:
    return StatusEntry(
        at=_aware(raw["at"]), state=raw["state"], actor=Actor(raw["actor"]), actor_id=raw.get("actor_id")
    )

"""The `dashboard_days` collection: the supervisor dashboard's read model, ONE document per
company and UTC day (`_id` = `{company}:{yyyy-mm-dd}`, see `domain.dashboard`).

Every count (a finished request's share of a day, a rating) is one upsert by `_id` with `$inc`
counters and capped `$push` samples, absorbed at most once (`consume_once`: the filter
requires its key unseen — the request's id, the rating event's id). A repeated count whose
bucket already saw it matches nothing; the upsert then collides with the existing `_id`
(DuplicateKeyError), which is exactly "already counted". A read is one `find` by `_id` (today
and the 6 days before); old days are deleted periodically.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from portal_svc.domain.dashboard import bucket_id, sample_push
from servicekit.outbox import SEEN, consume_once, merge_updates

HIDDEN = {SEEN: 0}


class DashboardRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        # Only the periodic retention delete reads by day; every other command is by `_id`.
        await self.collection.create_index([("day", ASCENDING)])

    async def record(
        self,
        key: object,
        *,
        company_id: str,
        account_id: str,
        day: date,
        counts: Mapping[str, int],
        samples: Mapping[str, Sequence[float]] | None = None,
    ) -> bool:
        """Count into the company's bucket for `day`, once per `key`; False when `key` was
        already counted there."""
        seen_filter, seen_update = consume_once(key)
        pushes: dict[str, Any] = {}
        for series, values in (samples or {}).items():
            pushes.update(sample_push(series, values))
        update = merge_updates(
            {"$setOnInsert": {"company_id": company_id, "account_id": account_id, "day": day.isoformat()}},
            {"$inc": dict(counts)} if counts else {},
            {"$push": pushes} if pushes else {},
            seen_update,
        )
        try:
            result = await self.collection.update_one(
                {"_id": bucket_id(company_id, day), **seen_filter}, update, upsert=True
            )
        except DuplicateKeyError:
            return False
        return result.modified_count == 1 or result.upserted_id is not None

    async def days(
        self, company_id: str, days: Sequence[date], *, fields: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """The buckets of these days that exist (a missing day had no counts), whole or with
        `fields` only (and their `day`)."""
        ids = [bucket_id(company_id, day) for day in days]
        projection = {name: 1 for name in ("day", *fields)} if fields else HIDDEN
        return await self.collection.find({"_id": {"$in": ids}}, projection).to_list()

    async def forget(self, before: date) -> int:
        """Delete the buckets of days before `before` (retention)."""
        result = await self.collection.delete_many({"day": {"$lt": before.isoformat()}})
        return result.deleted_count

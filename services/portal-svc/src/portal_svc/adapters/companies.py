"""The `companies` collection: the customer companies of an account.

Names are unique within an account, whatever their case: `name_key` (account and folded
name) carries a unique index, so two admins adding "Globex" at once cannot both succeed.
Companies stored before `name_key` existed have none (the index is sparse) and get one at
their next rename.

Every change carries `CompanyUpdated` in the same write (the outbox), conditional on the
revision that was read. A deleted company is first a tombstone (`deleted`, no `name_key`)
carrying its last event, and goes once that event is published: `purge_deleted`.
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from contracts import Envelope
from portal_svc.adapters.mongo import Doc, duplicate_field
from portal_svc.domain.errors import Conflict
from servicekit.outbox import LEASE, OutboxCollection

LIVE: Doc = {"deleted": {"$ne": True}}


def name_key(account_id: str, name: str) -> str:
    return f"{account_id}:{' '.join(name.split()).casefold()}"


def name_taken(name: str) -> Conflict:
    return Conflict(f"A company named “{name}” already exists in your account.", code="company_name_taken")


def _is_name_clash(error: DuplicateKeyError) -> bool:
    return duplicate_field(error) == "name_key" or "name_key" in str(error)


class CompanyRepository:
    def __init__(self, writer: OutboxCollection) -> None:
        self._writer = writer
        self._companies = writer.raw

    async def ensure_indexes(self) -> None:
        await self._companies.create_index("account_id")
        await self._companies.create_index("name_key", unique=True, sparse=True)
        await self._companies.create_index([("account_id", ASCENDING), ("name", ASCENDING)])

    async def insert(self, doc: Doc, events: Sequence[Envelope[Any]] = ()) -> bool:
        """Stores a new company with its events; False when one with that id exists (a
        repeated seed); Conflict when the account already has a company of that name."""
        try:
            await self._writer.insert({**doc, "name_key": name_key(doc["account_id"], doc["name"])}, events)
        except DuplicateKeyError as error:
            if _is_name_clash(error):
                raise name_taken(doc["name"]) from error
            return False
        return True

    @staticmethod
    def _at(account_id: str, company_id: str, revision: int) -> Doc:
        # Companies stored before revisions existed have none: they are at revision 0.
        at_revision: Doc = {"revision": revision} if revision else {"revision": {"$exists": False}}
        return {"_id": company_id, "account_id": account_id, **LIVE, **at_revision}

    async def rename(
        self, account_id: str, company_id: str, revision: int, name: str, events: Sequence[Envelope[Any]]
    ) -> Doc | None:
        """The company renamed as revision `revision + 1`, or None when it is gone or changed
        since `revision` was read; Conflict on a taken name."""
        try:
            return await self._writer.update(
                self._at(account_id, company_id, revision),
                {"$set": {"name": name, "name_key": name_key(account_id, name), "revision": revision + 1}},
                events,
            )
        except DuplicateKeyError as error:
            raise name_taken(name) from error

    async def delete(self, account_id: str, company_id: str, revision: int, events: Sequence[Envelope[Any]]) -> bool:
        """Tombstones the company with its last events (its name is free again at once);
        False when it is gone or changed since `revision` was read."""
        update: dict[str, Doc] = {
            "$set": {"deleted": True, "deleted_at": datetime.now(UTC), "revision": revision + 1},
            "$unset": {"name_key": ""},
        }
        if await self._writer.update(self._at(account_id, company_id, revision), update, events) is None:
            return False
        await self.purge_deleted(company_id)
        return True

    async def restage(self, account_id: str, company_id: str, revision: int, events: Sequence[Envelope[Any]]) -> bool:
        """Publish `events` again for the company at `revision` (a company stored before
        revisions existed becomes revision 1); False when it changed or went meanwhile."""
        update = {"$set": {"revision": max(revision, 1)}}
        return await self._writer.update(self._at(account_id, company_id, revision), update, events) is not None

    async def every_live(self) -> list[Doc]:
        """Every company of every account (the once-per-deployment re-announcement)."""
        return await self._companies.find(LIVE).to_list()

    async def purge_deleted(self, company_id: str | None = None) -> int:
        """Removes tombstones whose events are published (one, or every one: the sweep after
        a broker outage kept some)."""
        found: Doc = {"deleted": True, LEASE: {"$exists": False}}
        if company_id is not None:
            found["_id"] = company_id
        return (await self._companies.delete_many(found)).deleted_count

    async def of_account(self, account_id: str) -> list[Doc]:
        return await self._companies.find({"account_id": account_id, **LIVE}).sort("name").to_list()

    async def search(self, account_id: str, query: str, *, skip: int, limit: int) -> tuple[list[Doc], int]:
        """One page of the account's companies whose name contains `query` (any case), by name,
        and how many match in all."""
        found: dict[str, Any] = {"account_id": account_id, **LIVE}
        if query:
            found["name"] = {"$regex": re.escape(query), "$options": "i"}
        total = await self._companies.count_documents(found)
        page = await self._companies.find(found).sort("name").skip(skip).limit(limit).to_list()
        return page, total

    async def get(self, account_id: str, company_id: str) -> Doc | None:
        return await self._companies.find_one({"_id": company_id, "account_id": account_id, **LIVE})

    async def count_of_account(self, account_id: str, company_ids: list[str]) -> int:
        return await self._companies.count_documents({"account_id": account_id, "_id": {"$in": company_ids}, **LIVE})

"""The `users` collection: the people who sign in (admins and technicians), with their events.

A technician's changes carry `TechnicianUpdated` in the same write (the outbox). Every change
of a user is conditional on the revision that was read: two admins editing the same
technician never silently overwrite each other.
"""

import re
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from contracts import Envelope
from portal_svc.adapters.mongo import HIDDEN, Doc
from portal_svc.domain.errors import Conflict
from servicekit.outbox import OutboxCollection

EMAIL_TAKEN = "this e-mail address is already in use"
TECHNICIAN = "technician"


class UserRepository:
    def __init__(self, writer: OutboxCollection) -> None:
        self._writer = writer
        self._users = writer.raw

    async def ensure_indexes(self) -> None:
        # Uniqueness is the database's job: a read-then-write check loses under concurrency.
        await self._users.create_index("email", unique=True)
        await self._users.create_index([("account_id", ASCENDING), ("role", ASCENDING)])

    async def insert(self, doc: Doc, events: Sequence[Envelope[Any]] = ()) -> None:
        """Stores a new person (and the events announcing them); Conflict on a taken e-mail."""
        try:
            await self._writer.insert(doc, events)
        except DuplicateKeyError as error:
            raise Conflict(EMAIL_TAKEN, code="email_taken") from error

    async def insert_if_absent(self, doc: Doc, events: Sequence[Envelope[Any]] = ()) -> bool:
        """Like `insert`, but a person already stored (same id or e-mail) is not an error."""
        try:
            await self._writer.insert(doc, events)
        except DuplicateKeyError:
            return False
        return True

    async def by_email(self, email: str) -> Doc | None:
        return await self._users.find_one({"email": email}, HIDDEN)

    async def by_id(self, user_id: str) -> Doc | None:
        return await self._users.find_one({"_id": user_id}, HIDDEN)

    async def get(self, account_id: str, user_id: str, role: str) -> Doc | None:
        return await self._users.find_one({"_id": user_id, "account_id": account_id, "role": role}, HIDDEN)

    async def of_account(self, account_id: str, role: str) -> list[Doc]:
        return await self._users.find({"account_id": account_id, "role": role}, HIDDEN).sort("name").to_list()

    async def search_technicians(self, account_id: str, query: str, *, skip: int, limit: int) -> tuple[list[Doc], int]:
        """One page of the account's current technicians whose name or e-mail contains
        `query` (any case), by name, and how many match in all."""
        found: Doc = {"account_id": account_id, "role": TECHNICIAN, "enabled": True}
        if query:
            pattern = {"$regex": re.escape(query), "$options": "i"}
            found["$or"] = [{"name": pattern}, {"email": pattern}]
        total = await self._users.count_documents(found)
        page = await self._users.find(found, HIDDEN).sort("name").skip(skip).limit(limit).to_list()
        return page, total

    async def with_company(self, account_id: str, company_id: str) -> list[Doc]:
        """The account's current technicians with access to `company_id`."""
        query = {"account_id": account_id, "role": TECHNICIAN, "enabled": True, "company_ids": company_id}
        return await self._users.find(query, HIDDEN).to_list()

    async def technicians(self) -> list[Doc]:
        """Every technician of every account (the read model's start-up reconciliation)."""
        return await self._users.find({"role": TECHNICIAN}, HIDDEN).to_list()

    async def enabled_technicians_with_access(self, ids: list[str], company_id: str) -> set[str]:
        found = self._users.find(
            {"_id": {"$in": ids}, "role": TECHNICIAN, "enabled": True, "company_ids": company_id}, {"_id": 1}
        )
        return {doc["_id"] async for doc in found}

    async def set_password(self, user_id: str, password_hash: str) -> None:
        await self._users.update_one({"_id": user_id}, {"$set": {"password_hash": password_hash}})

    async def change(self, user_id: str, revision: int, fields: Doc, events: Sequence[Envelope[Any]]) -> Doc | None:
        """Applies `fields` as revision `revision + 1` with its events, if nobody changed the
        person since `revision` was read; None otherwise."""
        return await self._writer.update(
            {"_id": user_id, "revision": revision}, {"$set": {**fields, "revision": revision + 1}}, events
        )

    async def restage(self, user_id: str, revision: int, events: Sequence[Envelope[Any]]) -> bool:
        """Publish `events` again for the person at `revision`, changing nothing else; False
        when they changed meanwhile (that change published a newer revision itself)."""
        return await self._writer.update({"_id": user_id, "revision": revision}, {}, events) is not None

"""The `portals` collection: one portal per company, unique subdomains, with their events."""

from collections.abc import Sequence
from typing import Any

from pymongo.errors import DuplicateKeyError

from contracts import Envelope
from portal_svc.adapters.mongo import HIDDEN, Doc, duplicate_field
from portal_svc.domain.errors import Conflict
from servicekit.outbox import OutboxCollection


def _conflict(error: DuplicateKeyError) -> Conflict:
    if duplicate_field(error) == "company_id":
        return Conflict("this company already has a portal (one portal per company)", code="company_has_portal")
    return Conflict("subdomain already in use", code="subdomain_taken")


class PortalRepository:
    def __init__(self, writer: OutboxCollection) -> None:
        self._writer = writer
        self._portals = writer.raw

    async def ensure_indexes(self) -> None:
        await self._portals.create_index("subdomain", unique=True)
        await self._portals.create_index("company_id", unique=True)
        await self._portals.create_index("account_id")

    async def insert(self, doc: Doc, events: Sequence[Envelope[Any]]) -> None:
        """Stores a new portal with its events; Conflict on a taken subdomain or company."""
        try:
            await self._writer.insert(doc, events)
        except DuplicateKeyError as error:
            raise _conflict(error) from error

    async def insert_if_absent(self, doc: Doc, events: Sequence[Envelope[Any]]) -> bool:
        try:
            await self._writer.insert(doc, events)
        except DuplicateKeyError:
            return False
        return True

    async def change(self, portal_id: str, revision: int, fields: Doc, events: Sequence[Envelope[Any]]) -> Doc | None:
        """Applies `fields` as revision `revision + 1` if nobody changed the portal meanwhile."""
        try:
            return await self._writer.update(
                {"_id": portal_id, "revision": revision},
                {"$set": {**fields, "revision": revision + 1}},
                events,
            )
        except DuplicateKeyError as error:
            raise _conflict(error) from error

    async def of_account(self, account_id: str) -> list[Doc]:
        return await self._portals.find({"account_id": account_id}, HIDDEN).sort("subdomain").to_list()

    async def get(self, account_id: str, portal_id: str) -> Doc | None:
        return await self._portals.find_one({"_id": portal_id, "account_id": account_id}, HIDDEN)

    async def by_subdomain(self, subdomain: str) -> Doc | None:
        return await self._portals.find_one({"subdomain": subdomain}, HIDDEN)

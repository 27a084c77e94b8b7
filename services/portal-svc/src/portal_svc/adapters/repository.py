"""MongoDB repositories of portal-svc. Every change is one conditional single-document write.

Documents that carry staged events (users, portals, requests) are tracked by the outbox
sweeper; the event rides in the same write as the change that caused it.
"""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts import Envelope
from servicekit.outbox import Outbox, consume_once, merge_updates

Doc = dict[str, Any]


def duplicate_field(error: DuplicateKeyError) -> str:
    """Which unique key a write collided on (servers word this differently)."""
    details = error.details or {}
    for key in ("keyPattern", "keyValue"):
        if isinstance(details.get(key), dict) and details[key]:
            return next(iter(details[key]))
    text = str(error)
    for name in ("subdomain", "company_id", "email", "_id"):
        if name in text:
            return name
    return "_id"


class Repository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.accounts = db["accounts"]
        self.users = db["users"]
        self.companies = db["companies"]
        self.portals = db["portals"]
        self.requests = db["requests"]
        self.availability = db["availability"]

    @property
    def outbox_collections(self) -> tuple:
        return (self.users, self.portals, self.requests)

    async def create_indexes(self) -> None:
        # Uniqueness is the database's job: a read-then-write check loses under concurrency.
        await self.users.create_index("email", unique=True)
        await self.users.create_index([("account_id", ASCENDING), ("role", ASCENDING)])
        await self.companies.create_index("account_id")
        await self.portals.create_index("subdomain", unique=True)
        await self.portals.create_index("company_id", unique=True)
        await self.portals.create_index("account_id")
        await self.requests.create_index([("company_id", ASCENDING), ("status", ASCENDING)])
        await self.availability.create_index("company_ids")

    # -- generic versioned write -------------------------------------------------------

    async def replace_versioned(
        self, collection, doc_id: str, revision: int, fields: Doc, events: list[Envelope[Any]], outbox: Outbox
    ) -> bool:
        """Apply `fields` as revision `revision + 1` if nobody changed the document meanwhile."""
        update = merge_updates({"$set": {**fields, "revision": revision + 1}}, Outbox.stage(events))
        result = await collection.update_one({"_id": doc_id, "revision": revision}, update)
        if result.modified_count:
            await outbox.flush(collection, doc_id, events)
        return bool(result.modified_count)

    async def insert_with_events(self, collection, doc: Doc, events: list[Envelope[Any]], outbox: Outbox) -> None:
        await collection.insert_one({**doc, **Outbox.staged_fields(events)})
        await outbox.flush(collection, doc["_id"], events)

    # -- accounts and people -----------------------------------------------------------

    async def user_by_email(self, email: str) -> Doc | None:
        return await self.users.find_one({"email": email})

    async def user(self, account_id: str, user_id: str, role: str) -> Doc | None:
        return await self.users.find_one({"_id": user_id, "account_id": account_id, "role": role})

    async def users_of(self, account_id: str, role: str) -> list[Doc]:
        return await self.users.find({"account_id": account_id, "role": role}).sort("name").to_list()

    async def enabled_technicians_with_access(self, ids: list[str], company_id: str) -> set[str]:
        found = self.users.find(
            {"_id": {"$in": ids}, "role": "technician", "enabled": True, "company_ids": company_id}, {"_id": 1}
        )
        return {doc["_id"] async for doc in found}

    async def set_password(self, user_id: str, password_hash: str) -> None:
        await self.users.update_one({"_id": user_id}, {"$set": {"password_hash": password_hash}})

    async def companies_of(self, account_id: str) -> list[Doc]:
        return await self.companies.find({"account_id": account_id}).sort("name").to_list()

    async def company(self, account_id: str, company_id: str) -> Doc | None:
        return await self.companies.find_one({"_id": company_id, "account_id": account_id})

    async def count_companies(self, account_id: str, company_ids: list[str]) -> int:
        return await self.companies.count_documents({"account_id": account_id, "_id": {"$in": company_ids}})

    # -- portals -----------------------------------------------------------------------

    async def portals_of(self, account_id: str) -> list[Doc]:
        return await self.portals.find({"account_id": account_id}, {"_outbox": 0}).sort("subdomain").to_list()

    async def portal(self, account_id: str, portal_id: str) -> Doc | None:
        return await self.portals.find_one({"_id": portal_id, "account_id": account_id}, {"_outbox": 0})

    async def portal_by_subdomain(self, subdomain: str) -> Doc | None:
        return await self.portals.find_one({"subdomain": subdomain}, {"_outbox": 0})

    # -- requests ----------------------------------------------------------------------

    async def request(self, request_id: str) -> Doc | None:
        return await self.requests.find_one({"_id": request_id}, {"_outbox": 0, "_seen_events": 0})

    async def move_request(
        self,
        request_id: str,
        *,
        allowed_from: frozenset[str],
        fields: Doc,
        event_id: object,
        occurred_at: datetime,
        newer_only: bool,
    ) -> bool:
        """One conditional update: the move applies once, and only from an allowed status."""
        already, absorb = consume_once(event_id)
        query: Doc = {"_id": request_id, "status": {"$in": sorted(allowed_from)}, **already}
        if newer_only:
            query["status_at"] = {"$lt": occurred_at}
        update = merge_updates({"$set": {**fields, "status_at": occurred_at}}, absorb)
        result = await self.requests.update_one(query, update)
        return bool(result.modified_count)

    async def cancel_request(
        self, request_id: str, allowed_from: frozenset[str], fields: Doc, events: list[Envelope[Any]], outbox: Outbox
    ) -> Doc | None:
        update = merge_updates({"$set": fields}, Outbox.stage(events))
        doc = await self.requests.find_one_and_update(
            {"_id": request_id, "status": {"$in": sorted(allowed_from)}},
            update,
            projection={"_outbox": 0, "_seen_events": 0},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            await outbox.flush(self.requests, request_id, events)
        return doc

    async def queue_position(self, company_id: str, queued_since: datetime, request_id: str) -> int:
        """Rank among the company's still-queued requests (ties broken by id, like a stable sort)."""
        ahead = await self.requests.count_documents(
            {
                "company_id": company_id,
                "status": "queued",
                "$or": [
                    {"queued_since": {"$lt": queued_since}},
                    {"queued_since": queued_since, "_id": {"$lt": request_id}},
                ],
            }
        )
        return ahead + 1

    # -- availability read model -------------------------------------------------------

    async def record_availability(self, technician_id: str, sequence: int, fields: Doc) -> bool:
        """Apply a presence change unless we already hold a newer one for that technician."""
        try:
            result = await self.availability.update_one(
                {"_id": technician_id, "sequence": {"$lt": sequence}},
                {"$set": {**fields, "sequence": sequence}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the document exists with a sequence at least as new: stale event
        return bool(result.modified_count or result.upserted_id)

    async def available_in(self, account_id: str, company_id: str) -> list[Doc]:
        return await self.availability.find(
            {"account_id": account_id, "company_ids": company_id, "available": True}
        ).to_list()

    async def mark_missing_unavailable(self, present_ids: list[str], updated_before: datetime) -> int:
        result = await self.availability.update_many(
            {"_id": {"$nin": present_ids}, "available": True, "updated_at": {"$lt": updated_before}},
            {"$set": {"available": False}},
        )
        return result.modified_count

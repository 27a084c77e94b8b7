"""The `endpoints` collection: each account's webhook endpoints (a few per account).

Its writes may carry `WebhookEndpointDisabled`, hence an outbox collection. Every admin
change is guarded by `revision` (optimistic: two admins editing at once cannot lose a change).
"""

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from contracts import Envelope
from servicekit.outbox import OutboxCollection
from webhook_svc.domain.model import Endpoint, Secret


def to_endpoint(document: dict[str, Any]) -> Endpoint:
    return Endpoint(
        endpoint_id=document["_id"],
        account_id=document["account_id"],
        url=document["url"],
        description=document.get("description", ""),
        event_types=tuple(document.get("event_types", ())),
        enabled=document["enabled"],
        secrets=tuple(Secret(s["value"], s.get("expires_at")) for s in document.get("secrets", ())),
        created_at=document["created_at"],
        updated_at=document["updated_at"],
        failure_streak=document.get("failure_streak", 0),
        failing_since=document.get("failing_since"),
        last_error=document.get("last_error", ""),
        disabled_reason=document.get("disabled_reason"),
    )


def secrets_document(secrets: tuple[Secret, ...]) -> list[dict[str, Any]]:
    return [{"value": s.value, "expires_at": s.expires_at} for s in secrets]


class EndpointRepository:
    def __init__(self, writer: OutboxCollection) -> None:
        self.writer = writer
        self.collection = writer.raw

    async def ensure_indexes(self) -> None:
        # Deliveries look up the account's endpoints for every event consumed.
        await self.collection.create_index([("account_id", 1), ("created_at", 1)])

    async def insert(self, endpoint: Endpoint) -> None:
        await self.collection.insert_one(
            {
                "_id": endpoint.endpoint_id,
                "account_id": endpoint.account_id,
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": list(endpoint.event_types),
                "enabled": endpoint.enabled,
                "secrets": secrets_document(endpoint.secrets),
                "created_at": endpoint.created_at,
                "updated_at": endpoint.updated_at,
                "failure_streak": 0,
                "revision": 1,
            }
        )

    async def count(self, account_id: str) -> int:
        return await self.collection.count_documents({"account_id": account_id})

    async def of_account(self, account_id: str) -> list[Endpoint]:
        cursor = self.collection.find({"account_id": account_id}).sort("created_at", 1)
        return [to_endpoint(d) async for d in cursor]

    async def subscribed(self, account_id: str, event_type: str) -> list[Endpoint]:
        """The account's enabled endpoints subscribed to `event_type` (never another account's)."""
        cursor = self.collection.find({"account_id": account_id, "enabled": True, "event_types": event_type})
        return [to_endpoint(d) async for d in cursor]

    async def get(self, endpoint_id: str) -> Endpoint | None:
        document = await self.collection.find_one({"_id": endpoint_id})
        return to_endpoint(document) if document else None

    async def get_with_revision(self, account_id: str, endpoint_id: str) -> tuple[Endpoint, int] | None:
        document = await self.collection.find_one({"_id": endpoint_id, "account_id": account_id})
        return (to_endpoint(document), document.get("revision", 1)) if document else None

    async def change(
        self, account_id: str, endpoint_id: str, revision: int, fields: dict[str, Any], unset: tuple[str, ...] = ()
    ) -> Endpoint | None:
        """Apply an admin's change if nobody changed the endpoint since `revision` was read."""
        update: dict[str, Any] = {"$set": fields, "$inc": {"revision": 1}}
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        after = await self.collection.find_one_and_update(
            {"_id": endpoint_id, "account_id": account_id, "revision": revision},
            update,
            return_document=ReturnDocument.AFTER,
        )
        return to_endpoint(after) if after else None

    async def delete(self, account_id: str, endpoint_id: str) -> bool:
        result = await self.collection.delete_one({"_id": endpoint_id, "account_id": account_id})
        return result.deleted_count == 1

    async def failed(self, endpoint_id: str, error: str, now: datetime) -> Endpoint | None:
        """Count one more failed attempt in a row; `failing_since` is set by the first."""
        after = await self.collection.find_one_and_update(
            {"_id": endpoint_id},
            {"$inc": {"failure_streak": 1}, "$set": {"last_error": error[:500]}, "$min": {"failing_since": now}},
            return_document=ReturnDocument.AFTER,
        )
        return to_endpoint(after) if after else None

    async def succeeded(self, endpoint_id: str) -> None:
        """End a failure streak (no write at all while there is none: the usual case)."""
        await self.collection.update_one(
            {"_id": endpoint_id, "failure_streak": {"$gt": 0}},
            {"$set": {"failure_streak": 0, "last_error": ""}, "$unset": {"failing_since": ""}},
        )

    async def disable(self, endpoint_id: str, reason: str, event: Envelope[Any], now: datetime) -> bool:
        """Disable an enabled endpoint, with the event telling its admins; False if it was not enabled."""
        after = await self.writer.update(
            {"_id": endpoint_id, "enabled": True},
            {"$set": {"enabled": False, "disabled_reason": reason, "updated_at": now}, "$inc": {"revision": 1}},
            [event],
        )
        return after is not None

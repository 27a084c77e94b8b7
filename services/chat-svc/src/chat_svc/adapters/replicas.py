"""Which chat-svc replicas are alive, and socket counts that hold across all of them.

Each replica renews a lease (`replicas`: `{_id: replica, expires_at}`) and keeps the set of
replicas whose lease is current. A count kept per replica (sockets per token here, customer
sockets per session in `sessions`) only counts while its replica's lease does: when a
replica dies its sockets stop counting once its lease expires, without anyone cleaning up.
"""

from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from chat_svc.adapters.sessions import replica_field


def counts_key(replica: str) -> str:
    return replica_field(replica).removeprefix("customers.")


def _aware(moment: datetime) -> datetime:
    # The store may hand datetimes back without their (UTC) zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Replicas:
    def __init__(self, collection: AsyncCollection, replica: str, *, lease_seconds: float) -> None:
        self.collection = collection
        self.replica = replica
        self.key = counts_key(replica)
        self.lease = timedelta(seconds=lease_seconds)
        self.live: frozenset[str] = frozenset({self.key})
        """Count keys of the replicas alive at the last renewal (always this one)."""

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("expires_at")

    async def renew(self) -> None:
        """Renew this replica's lease and learn which others are alive (a periodic task)."""
        now = datetime.now(UTC)
        await self.collection.update_one({"_id": self.key}, {"$set": {"expires_at": now + self.lease}}, upsert=True)
        if await self.refresh(now):
            await self.collection.delete_many({"expires_at": {"$lt": now - self.lease}})

    async def refresh(self, now: datetime | None = None) -> bool:
        """Learn which replicas are alive now; True when a lease long expired is left (a
        replica that died: its document can go). One read of a collection of a few documents."""
        now = now or datetime.now(UTC)
        leases = {
            document["_id"]: _aware(document["expires_at"])
            async for document in self.collection.find({}, {"expires_at": 1})
        }
        self.live = frozenset({self.key, *(key for key, expires in leases.items() if expires > now)})
        return any(expires < now - self.lease for expires in leases.values())

    def unknown(self, counts: dict[str, int] | None) -> bool:
        """Whether `counts` has sockets of a replica not known to be alive (a newer one?)."""
        return any(n > 0 and key not in self.live for key, n in (counts or {}).items())

    def total(self, counts: dict[str, int] | None) -> int:
        """Sum of the counts of live replicas."""
        return sum(max(0, n) for key, n in (counts or {}).items() if key in self.live)


class SocketCounter:
    """Open sockets per token, one document per token (`_id` = the token's digest) with a
    count per replica: one command to open a socket, one to close it."""

    def __init__(self, collection: AsyncCollection, replicas: Replicas) -> None:
        self.collection = collection
        self.replicas = replicas

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("seen_at")

    async def open(self, key: str) -> int:
        """Count one more socket for `key` here; returns the total across live replicas."""
        document = await self.collection.find_one_and_update(
            {"_id": key},
            {"$inc": {f"counts.{self.replicas.key}": 1}, "$set": {"seen_at": datetime.now(UTC)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        counts = (document or {}).get("counts")
        if self.replicas.unknown(counts):
            # A replica started since the last renewal, or one that died: ask (rare).
            await self.replicas.refresh()
        return self.replicas.total(counts)

    async def close(self, key: str) -> None:
        await self.collection.update_one({"_id": key}, {"$inc": {f"counts.{self.replicas.key}": -1}})

    async def forget_idle(self, before: datetime) -> int:
        """Delete counters of tokens not used since `before` (longer than any token lives)."""
        result = await self.collection.delete_many({"seen_at": {"$lt": before}})
        return result.deleted_count

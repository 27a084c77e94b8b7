"""Which chat-svc replicas are alive, and socket counts that hold across all of them.

Each replica renews a lease (`replicas`: `{_id: replica, expires_at}`) and keeps the set of
replicas whose lease is current. A count kept per replica (sockets per token here, customer
sockets per session in `sessions`) only counts while its replica's lease does: when a
replica dies its sockets stop counting once its lease expires, without anyone cleaning up.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument, UpdateOne
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
    count per replica: one command to open a socket; closing one costs a share of a batch.

    A closed socket's release waits in memory for the next `flush` (one bulk write for every
    token released since the last). Until then its place stays counted, so another replica
    may refuse a socket a moment too early, never admit one too many; a socket opened here
    with the same token meanwhile takes that place back without a command, since the count
    the store holds already includes it. A refused socket gives its place back at once: it
    was never admitted, so its place must not be reused."""

    def __init__(self, collection: AsyncCollection, replicas: Replicas, *, batched: bool = True) -> None:
        self.collection = collection
        self.replicas = replicas
        self.batched = batched
        self._releases: Counter[str] = Counter()
        """Places of closed sockets still counted in the store, per token key."""

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("seen_at")

    async def open(self, key: str) -> int | None:
        """Count one more socket for `key` here; returns the total across live replicas, or
        None when the place of a socket closed here was taken back (counted already, and
        within the limit when it was first taken)."""
        if self._releases[key] > 0:
            self._releases[key] -= 1
            if not self._releases[key]:
                del self._releases[key]
            return None
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

    async def refuse(self, key: str) -> None:
        """Give back at once the place an over-the-limit socket took."""
        await self.collection.update_one({"_id": key}, {"$inc": {f"counts.{self.replicas.key}": -1}})

    async def close(self, key: str) -> None:
        """A socket admitted here closed: its place is released by the next `flush`."""
        self._releases[key] += 1
        if not self.batched:
            await self.flush()

    def releasing(self, key: str) -> int:
        """Places of `key`'s closed sockets waiting for the next flush."""
        return self._releases[key]

    async def flush(self) -> int:
        """Write every release since the last flush in one command; returns the tokens written.
        A failed write keeps them for the next flush (a periodic task, and at shutdown)."""
        releases, self._releases = self._releases, Counter()
        if not releases:
            return 0
        field = f"counts.{self.replicas.key}"
        try:
            await self.collection.bulk_write(
                [UpdateOne({"_id": key}, {"$inc": {field: -n}}) for key, n in releases.items()], ordered=False
            )
        except BaseException:
            self._releases.update(releases)
            raise
        return len(releases)

    async def forget_idle(self, before: datetime) -> int:
        """Delete counters of tokens not used since `before` (longer than any token lives)."""
        result = await self.collection.delete_many({"seen_at": {"$lt": before}})
        return result.deleted_count

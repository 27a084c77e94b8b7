"""The outbox: a state change and the events it causes are stored in one atomic write.

Events ride inside the very document whose change caused them (field `_outbox`), so a
single-document write — atomic on every MongoDB and on the embedded MongoDB-wire server,
with no multi-document transaction — stores both or neither. Right after the write, the
writing process publishes what it staged, oldest first, with publisher confirms. Clearing
what was published is batched: every `clear_every` seconds ONE command per collection (a bulk
write of by-`_id` statements) removes the published events from every document written
meanwhile, instead of a command after every write; until then this process remembers what it
published and never publishes it again. If the process dies or the broker is down in between,
the sweeper of any replica publishes what is left, in the same order.

Each staged event names the process that staged it and when. A write that finds events of
another process in the document (two replicas writing the same document within a second)
leaves them to that process while they are younger than `PUBLISH_GRACE`: it is publishing
them, or has and will clear them in its next batch. Publishing them too would make duplicates
routine with two replicas; older ones are presumed orphaned and published.

The one entry point is `Outbox.collection(raw)`: it returns the `OutboxCollection` through
which a repository writes a document together with its events, and registers the
collection for sweeping at the same time — events cannot be staged on a collection the
sweeper does not know.

Delivery is at least once: a rare duplicate (a crash after publishing, before the clear)
reaches consumers, which are idempotent. `consume_once` gives a consumer's effect on one
document that guarantee: the document remembers the ids of the last `SEEN_WINDOW` events it
absorbed. That window is a bound, not a promise: a duplicate arriving after more than
`SEEN_WINDOW` newer events changed the same document is not recognised by its id, so every
consumer also guards its writes by state (a revision, a sequence, an expected state).
"""

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import aiormq.exceptions
from faststream.exceptions import IncorrectState
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import ConnectionFailure

from contracts import Envelope, payload_type
from servicekit import tracing
from servicekit.logging import get_logger

log = get_logger(__name__)


class Publish(Protocol):
    """Publishes one event; `maybe_repeat` marks a publication that may repeat an earlier one
    (header `servicekit.broker.MAYBE_REPEAT_HEADER`)."""

    def __call__(self, event: Envelope[Any], /, *, maybe_repeat: bool = False) -> Awaitable[None]: ...


Doc = dict[str, Any]
Update = dict[str, dict[str, Any]]

OUTBOX = "_outbox"
LEASE = "_outbox_lease"
SEEN = "_seen_events"
SEEN_WINDOW = 64
BY = "by"
"""An entry's field: the `Outbox` (one per process) that staged it."""
AT = "at"
"""An entry's field: when it was staged."""
# A staged event younger than this is presumably being published by the process that wrote
# it (and cleared in its next batch); the sweeper and other writers leave it alone meanwhile
# to avoid needless duplicates.
PUBLISH_GRACE = timedelta(seconds=5)
SWEEP_LEASE = timedelta(seconds=30)

# Failures that a later attempt can cure: the broker or the store is unreachable. Anything
# else (an event type missing from the catalogue, a bug) is a programming error: it is
# logged with its traceback and raised, never mistaken for an outage.
TRANSIENT: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    OSError,
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,
    IncorrectState,
    ConnectionFailure,
)


def merge_updates(*updates: Mapping[str, Mapping[str, Any]]) -> Update:
    """Combine MongoDB update documents operator by operator."""
    merged: Update = {}
    for update in updates:
        for operator, fields in update.items():
            merged.setdefault(operator, {}).update(fields)
    return merged


def consume_once(event_id: object) -> tuple[Doc, Update]:
    """(filter, update) fragments making an update absorb `event_id` at most once."""
    key = str(event_id)
    return {SEEN: {"$ne": key}}, {"$push": {SEEN: {"$each": [key], "$slice": -SEEN_WINDOW}}}


def _entry(event: Envelope[Any], owner: str, at: datetime) -> Doc:
    entry: Doc = {
        "_id": str(event.event_id),
        "type": event.type,
        "body": event.model_dump(mode="json"),
        BY: owner,
        AT: at,
    }
    # The staging span's trace context rides with the event, so whoever publishes it later
    # (this process right away, or any replica's sweeper) continues the same trace.
    if (context := tracing.capture()) is not None:
        entry[tracing.TRACE_FIELD] = context
    return entry


def _staging(entries: list[Doc]) -> Update:
    return {"$push": {OUTBOX: {"$each": entries}}, "$set": {LEASE: entries[0][AT] + PUBLISH_GRACE}}


def _strip(document: Doc) -> Doc:
    document.pop(OUTBOX, None)
    document.pop(LEASE, None)
    return document


class OutboxCollection:
    """A collection whose writes may carry events; obtained from `Outbox.collection` only."""

    def __init__(self, outbox: "Outbox", raw: AsyncCollection) -> None:
        self._outbox = outbox
        self.raw = raw
        """The plain collection, for reads and for writes that cause no event."""

    @property
    def name(self) -> str:
        return self.raw.name

    async def update(
        self,
        filter: Doc,
        update: Mapping[str, Mapping[str, Any]],
        events: Sequence[Envelope[Any]] = (),
        *,
        upsert: bool = False,
        projection: Mapping[str, Any] | None = None,
    ) -> Doc | None:
        """Apply `update` to the document matching `filter` and stage `events` in the same
        write; then publish them (with whatever this process still owes on it, and orphans
        older than the grace; see `publish_staged`). Returns the document after the change
        (without outbox fields), or None when nothing matched (and nothing was staged)."""
        staged = self._outbox.entries(events) if events else []
        if staged:
            update = merge_updates(update, _staging(staged))
            if projection is not None:
                projection = {**projection, OUTBOX: 1}
        after = await self.raw.find_one_and_update(
            filter, update, projection=projection, upsert=upsert, return_document=ReturnDocument.AFTER
        )
        if after is None:
            return None
        if staged:
            await self._outbox.publish_staged(self, after["_id"], after.get(OUTBOX, []), own=staged)
        return _strip(after)

    async def insert(self, document: Doc, events: Sequence[Envelope[Any]] = ()) -> None:
        """Insert a new document carrying `events`, then publish them (DuplicateKeyError
        propagates: nothing was stored or published)."""
        if not events:
            await self.raw.insert_one(document)
            return
        entries = self._outbox.entries(events)
        await self.raw.insert_one({**document, OUTBOX: entries, LEASE: entries[0][AT] + PUBLISH_GRACE})
        await self._outbox.publish_staged(self, document["_id"], entries, own=entries)


class Outbox:
    def __init__(
        self, publish: Publish, *, on_failure: Callable[[], None] | None = None, clear_later: bool = False
    ) -> None:
        self._publish = publish
        self._owner = uuid.uuid4().hex[:12]
        self._on_failure = on_failure
        """Told of every publication that failed on an outage (a metric)."""
        self._clear_later = clear_later
        """Published events are cleared by `clear_published` (periodic), not after each write."""
        self._published: dict[tuple[str, Any], set[str]] = {}
        """Events published by this process and still in their document's outbox."""
        self._cleared: dict[tuple[str, Any], set[str]] = {}
        """Those the last `clear_published` removed: a write's reply read before that clear
        may still list them."""
        self._collections: dict[str, OutboxCollection] = {}
        # Documents whose publication failed on a transient error: retried on the next
        # sweep, which the failure wakes up at once, whatever their lease says.
        self._retry: dict[tuple[str, Any], OutboxCollection] = {}
        self._locks: dict[tuple[str, Any], tuple[asyncio.Lock, int]] = {}
        self._wakeup = asyncio.Event()

    def entries(self, events: Sequence[Envelope[Any]]) -> list[Doc]:
        """Outbox entries for `events`, staged by this process now."""
        at = datetime.now(UTC)
        return [_entry(event, self._owner, at) for event in events]

    def _theirs_in_flight(self, entry: Doc) -> bool:
        """Staged by another process within the grace: it publishes (and clears) it."""
        at = entry.get(AT)
        if entry.get(BY, self._owner) == self._owner or not isinstance(at, datetime):
            return False
        return (at if at.tzinfo else at.replace(tzinfo=UTC)) > datetime.now(UTC) - PUBLISH_GRACE

    def collection(self, raw: AsyncCollection) -> OutboxCollection:
        """The writer for `raw`; registers it for sweeping (idempotent)."""
        if raw.name not in self._collections:
            self._collections[raw.name] = OutboxCollection(self, raw)
        return self._collections[raw.name]

    @property
    def wakeup(self) -> asyncio.Event:
        """Set when a sweep should run now (a publication just failed)."""
        return self._wakeup

    async def ensure_indexes(self) -> None:
        for writer in self._collections.values():
            await writer.raw.create_index(LEASE, sparse=True)

    async def backlog(self) -> dict[str, int]:
        """Documents whose staged events wait for the sweeper, per collection (a periodic
        metric read on the lease's sparse index): the lease ran out, or a publication failed.
        A document written moments ago is still under its writer's lease and is not backlog."""
        return {
            name: await writer.raw.count_documents({LEASE: {"$lte": datetime.now(UTC)}})
            for name, writer in self._collections.items()
        }

    async def publish_staged(
        self,
        writer: OutboxCollection,
        document_id: Any,
        entries: Iterable[Doc] | None,
        *,
        own: Iterable[Doc] = (),
        sweeping: bool = False,
    ) -> None:
        """Publish what is staged on one document, oldest first, then clear it.

        `entries` is what the write just returned; None means "read it now". Publications of
        one document never overlap within a process (a per-document lock), and whoever waited
        for the lock re-reads the outbox, so an event already published and cleared by the
        other holder is not published again after newer ones. Across processes the lease
        keeps the sweeper away from a document written in the last `PUBLISH_GRACE`, and a
        writer leaves another process's entries younger than that to it.

        `own` are the entries the write itself staged: any other entry published here may
        have been published before (a failed attempt that reached the broker, a crashed
        writer's), so it goes out marked as a possible repeat, as everything the sweeper sends.
        """
        key = (writer.name, document_id)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            contended = lock.locked()
            async with lock:
                if entries is None or contended:
                    stored = await writer.raw.find_one({"_id": document_id}, projection={OUTBOX: 1})
                    entries = (stored or {}).get(OUTBOX, [])
                first = set() if sweeping else {entry["_id"] for entry in own}
                await self._publish_and_clear(writer, document_id, list(entries), first, sweeping=sweeping)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _publish_and_clear(
        self, writer: OutboxCollection, document_id: Any, entries: list[Doc], first: set[str], *, sweeping: bool
    ) -> None:
        key = (writer.name, document_id)
        done = self._published.get(key, set()) | self._cleared.get(key, set())
        # Published already and waiting for the batched clear, or another process's own.
        due = [e for e in entries if e["_id"] not in done and (sweeping or not self._theirs_in_flight(e))]
        try:
            for entry in due:
                with tracing.resumed(entry.get(tracing.TRACE_FIELD)):
                    await self._publish(_envelope(entry), maybe_repeat=entry["_id"] not in first)
                if self._clear_later and not sweeping:
                    self._published.setdefault(key, set()).add(entry["_id"])
            if sweeping or not self._clear_later:
                # The sweeper's catches are rare: cleared at once, lease included.
                await self._clear(writer.raw, document_id, [entry["_id"] for entry in due])
        except TRANSIENT as error:
            if self._on_failure is not None:
                self._on_failure()
            log.warning(
                "publish after write failed; the sweeper retries",
                collection=writer.name,
                document_id=str(document_id),
                error=f"{type(error).__name__}: {error}",
            )
            self._retry[(writer.name, document_id)] = writer
            # Give up the lease (the write's, or the sweep's claim): the next sweep of any
            # replica may take the document, and the backlog metric counts it meanwhile.
            with contextlib.suppress(*TRANSIENT):
                await writer.raw.update_one({"_id": document_id}, {"$set": {LEASE: datetime.now(UTC)}})
            if not sweeping:
                self._wakeup.set()  # not from the sweeper itself: it would spin while the broker is down
        except Exception:
            log.exception("publishing staged events failed", collection=writer.name, document_id=str(document_id))
            raise

    async def _clear(self, raw: AsyncCollection, document_id: Any, ids: list[str]) -> None:
        if not ids:
            await raw.update_one({"_id": document_id, OUTBOX: {"$size": 0}}, {"$unset": {OUTBOX: "", LEASE: ""}})
            return
        # One command in the usual case: the outbox holds exactly what was just published,
        # so it goes, lease included. Otherwise another writer staged more meanwhile: pull ours.
        cleared = await raw.update_one(
            {"_id": document_id, OUTBOX: {"$size": len(ids)}, f"{OUTBOX}._id": {"$all": ids}},
            {"$unset": {OUTBOX: "", LEASE: ""}},
        )
        if cleared.matched_count == 0:
            await raw.update_one({"_id": document_id}, {"$pull": {OUTBOX: {"_id": {"$in": ids}}}})

    async def clear_published(self) -> int:
        """Periodic (when clearing later): remove what this process published from the
        outboxes, ONE command per collection whatever the number of documents (a bulk write
        of by-`_id` statements); returns how many documents had published events."""
        pending = {key: set(ids) for key, ids in self._published.items()}
        cleared: dict[tuple[str, Any], set[str]] = {}
        try:
            await self._clear_batches(pending, cleared)
        finally:
            # Even after a failed batch: what an earlier collection's batch removed is known.
            self._cleared = cleared
        return len(cleared)

    async def _clear_batches(
        self, pending: dict[tuple[str, Any], set[str]], cleared: dict[tuple[str, Any], set[str]]
    ) -> None:
        for name in sorted({name for name, _ in pending}):
            documents = {document_id: ids for (each, document_id), ids in pending.items() if each == name}
            statements = []
            for document_id, ids in documents.items():
                ordered = sorted(ids)
                # The usual case: the outbox holds exactly what was published, so it goes, lease
                # included. Else another writer staged more meanwhile: ours are pulled, and the
                # lease stays for the rest (its writer's clear, or the sweeper, ends it).
                statements += [
                    UpdateOne(
                        {"_id": document_id, OUTBOX: {"$size": len(ordered)}, f"{OUTBOX}._id": {"$all": ordered}},
                        {"$unset": {OUTBOX: "", LEASE: ""}},
                    ),
                    UpdateOne(
                        {"_id": document_id, f"{OUTBOX}._id": {"$in": ordered}},
                        {"$pull": {OUTBOX: {"_id": {"$in": ordered}}}},
                    ),
                ]
            await self._collections[name].raw.bulk_write(statements, ordered=True)
            for document_id, published in documents.items():
                key = (name, document_id)
                cleared[key] = published
                if left := self._published.get(key, set()) - published:
                    self._published[key] = left
                else:
                    self._published.pop(key, None)

    async def _claim(self, raw: AsyncCollection, filter: Doc) -> Doc | None:
        now = datetime.now(UTC)
        return await raw.find_one_and_update(
            filter,
            {"$set": {LEASE: now + SWEEP_LEASE}},
            projection={OUTBOX: 1},
            return_document=ReturnDocument.AFTER,
        )

    async def sweep_once(self) -> int:
        """Publish events left behind by a crash or a broker outage; returns how many.

        Raises a transient error when the broker is still unreachable, so the caller's
        periodic loop logs it once and tries again on its next tick.
        """
        published = 0
        for key, writer in list(self._retry.items()):
            del self._retry[key]
            published += await self._sweep_document(writer, {"_id": key[1], LEASE: {"$lte": datetime.now(UTC)}}) or 0
        for writer in self._collections.values():
            # Bounded: a claimed document's lease moves forward, so it is not claimed again
            # within this sweep.
            for _ in range(1000):
                count = await self._sweep_document(writer, {LEASE: {"$lte": datetime.now(UTC)}})
                if count is None:
                    break
                published += count
        return published

    async def _sweep_document(self, writer: OutboxCollection, filter: Doc) -> int | None:
        """Publish what one matching document carries; None when no document matched."""
        document = await self._claim(writer.raw, filter)
        if document is None:
            return None
        entries = document.get(OUTBOX, [])
        await self.publish_staged(writer, document["_id"], entries, sweeping=True)
        if (writer.name, document["_id"]) in self._retry:
            raise ConnectionError("the broker is still unreachable")
        return len(entries)


def _envelope(entry: Doc) -> Envelope[Any]:
    return Envelope[payload_type(entry["type"])].model_validate(entry["body"])  # type: ignore[misc]

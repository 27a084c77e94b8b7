"""The outbox: a state change and the events it causes are stored in one atomic write.

Events ride inside the very document whose change caused them (field `_outbox`), so a
single-document update — atomic on every MongoDB and on the embedded MongoDB-wire
server, with no multi-document transaction — stores both or neither. Right after the
write the events are published with publisher confirms and pulled from the document; if
the process dies in between, the sweeper of any replica publishes what is left
(consumers are idempotent, so a rare duplicate is harmless).

Consumers get the same guarantee for their effects: `consume_once` makes an update apply
at most once per consumed event id (the document remembers the last ids it absorbed).
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from contracts import Envelope, payload_type
from servicekit.logging import get_logger

log = get_logger(__name__)

Publish = Callable[[Envelope[Any]], Awaitable[None]]

OUTBOX = "_outbox"
LEASE = "_outbox_lease"
SEEN = "_seen_events"
SEEN_WINDOW = 64
# A staged event younger than this is presumably being published by the process that
# wrote it; the sweeper leaves it alone meanwhile to avoid needless duplicates.
PUBLISH_GRACE = timedelta(seconds=5)
SWEEP_LEASE = timedelta(seconds=30)


def merge_updates(*updates: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Combine MongoDB update documents operator by operator."""
    merged: dict[str, dict[str, Any]] = {}
    for update in updates:
        for operator, fields in update.items():
            merged.setdefault(operator, {}).update(fields)
    return merged


def consume_once(event_id: object) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(filter, update) fragments making an update absorb `event_id` at most once."""
    key = str(event_id)
    return {SEEN: {"$ne": key}}, {"$push": {SEEN: {"$each": [key], "$slice": -SEEN_WINDOW}}}


def _entry(event: Envelope[Any]) -> dict[str, Any]:
    return {"_id": str(event.event_id), "type": event.type, "body": event.model_dump(mode="json")}


class Outbox:
    def __init__(self, publish: Publish) -> None:
        self._publish = publish
        self._collections: list[AsyncCollection] = []
        self._wakeup = asyncio.Event()

    def track(self, *collections: AsyncCollection) -> None:
        """Collections whose documents may carry staged events (swept after a crash)."""
        self._collections.extend(collections)

    async def ensure_indexes(self) -> None:
        for collection in self._collections:
            await collection.create_index(LEASE, sparse=True)

    @staticmethod
    def stage(events: Iterable[Envelope[Any]]) -> dict[str, dict[str, Any]]:
        """Update fragment storing `events` with the document being changed."""
        return {
            "$push": {OUTBOX: {"$each": [_entry(e) for e in events]}},
            "$set": {LEASE: datetime.now(UTC) + PUBLISH_GRACE},
        }

    @staticmethod
    def staged_fields(events: Iterable[Envelope[Any]]) -> dict[str, Any]:
        """Fields for a new document (insert) carrying `events`."""
        return {OUTBOX: [_entry(e) for e in events], LEASE: datetime.now(UTC) + PUBLISH_GRACE}

    async def flush(
        self, collection: AsyncCollection, document_id: Any, events: list[Envelope[Any]]
    ) -> None:
        """Publish events just stored with `document_id`, then remove them from it."""
        if not events:
            return
        try:
            for event in events:
                await self._publish(event)
            await collection.update_one(
                {"_id": document_id},
                {"$pull": {OUTBOX: {"_id": {"$in": [str(e.event_id) for e in events]}}}},
            )
        except Exception as error:  # broker or store down: the sweeper publishes later
            log.warning("publish after write failed; left for the sweeper", error=str(error))
            self._wakeup.set()

    async def sweep_once(self) -> int:
        """Publish events left behind by a crash or a broker outage."""
        published = 0
        for collection in self._collections:
            while True:
                now = datetime.now(UTC)
                document = await collection.find_one_and_update(
                    {f"{OUTBOX}.0": {"$exists": True}, LEASE: {"$lte": now}},
                    {"$set": {LEASE: now + SWEEP_LEASE}},
                    projection={OUTBOX: 1},
                    return_document=ReturnDocument.AFTER,
                )
                if document is None:
                    break
                for entry in document[OUTBOX]:
                    event = Envelope[payload_type(entry["type"])].model_validate(entry["body"])
                    await self._publish(event)
                    await collection.update_one(
                        {"_id": document["_id"]}, {"$pull": {OUTBOX: {"_id": entry["_id"]}}}
                    )
                    published += 1
        return published

    async def sweep_forever(self, every: float) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=every)
            except TimeoutError:
                pass
            self._wakeup.clear()
            try:
                if count := await self.sweep_once():
                    log.info("outbox swept", published=count)
            except Exception as error:  # keep sweeping whatever happened
                log.warning("outbox sweep failed", error=str(error))

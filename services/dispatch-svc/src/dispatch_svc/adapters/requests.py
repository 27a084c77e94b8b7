"""Live requests and their history, in MongoDB: every query on them lives here.

Every change is one conditional single-document write guarded by the document's `rev`
(optimistic concurrency, no transactions), carrying the events it causes in the outbox.
"""

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from contracts import Envelope
from contracts.vocabulary import ConnectionMode
from dispatch_svc.adapters.contention import CONTENTION
from dispatch_svc.domain.invitation import needs_closing
from dispatch_svc.domain.request import FINISHED, Change, State
from servicekit.outbox import OUTBOX, OutboxCollection

Doc = dict[str, Any]

DUPLICATE_KEY = 11000

ASSIGNMENTS_REMEMBERED = 10_000
ASSIGNMENT_FIELDS = (
    "_id",
    "account_id",
    "company_id",
    "correlation_id",
    "mode",
    "state",
    "technician_id",
    "assignment",
    "acknowledged",
    "assigned_at",
    "submitted_at",
)
"""What an acknowledgement's event (and its metrics) need of the assignment."""

NOT_STAGED = {f"{OUTBOX}.0": {"$exists": False}}
"""Filter: the document's events are all published."""
KEEP_UNTIL = "keep_until"
"""A tombstone's field: archived no sooner, unless its submission came."""


def _archivable(document: Doc, now: datetime) -> bool:
    # The service's client is tz-aware (servicekit.mongo): stored times come back aware.
    keep_until = document.get(KEEP_UNTIL)
    return keep_until is None or keep_until <= now


@dataclass
class SweepView:
    """What the sweeper acts on, read in one query (`RequestRepository.sweep_view`)."""

    due: list[Doc] = field(default_factory=list)
    """Requests left new, offers past their expiry, assignments past their acknowledgement
    deadline, transfers and invitations past their expiry, finished requests still holding
    a hand-over or guests."""
    waiting_companies: list[str] = field(default_factory=list)
    """Companies with queued requests or open offers."""
    overdue_companies: list[str] = field(default_factory=list)
    """Companies with a request queued or offered since before `stuck`: the events that serve
    a request as technicians free room should have served it by then, so the sweeper serves
    these again (a request waiting a moment is left to its events: serving every company on
    every tick cost each worker about one store command per request under load)."""
    finished: list[Doc] = field(default_factory=list)
    """Finished requests whose events are all published (to archive)."""


class RequestRepository:
    def __init__(self, live: OutboxCollection, history: AsyncCollection) -> None:
        self.live = live
        self.history = history
        # Queue assignments this process made, awaiting acknowledgement (bounded): the fields
        # of a request they hold never change, so an accept can build its RequestAcknowledged
        # without reading the request; the write's filter checks that it is still that very
        # unacknowledged assignment (a stale entry just falls back to reading).
        self._awaiting_ack: OrderedDict[str, Doc] = OrderedDict()
        # Open Web offers as this process last wrote them (bounded): an accept acts on the
        # remembered document with a write guarded by its revision, so it need not read it
        # first; a stale entry (another worker changed it) only makes that write miss, and the
        # accept then reads the request as usual.
        self._open_offers: OrderedDict[str, Doc] = OrderedDict()

    def _remember_offer(self, request: Doc) -> None:
        if request.get("state") != State.OFFERED:
            self._open_offers.pop(request["_id"], None)
            return
        self._open_offers[request["_id"]] = request
        self._open_offers.move_to_end(request["_id"])
        while len(self._open_offers) > ASSIGNMENTS_REMEMBERED:
            self._open_offers.popitem(last=False)

    def open_offer(self, request_id: str) -> Doc | None:
        """The open Web offer as this process last wrote it, if it did (possibly stale)."""
        return self._open_offers.get(request_id)

    def _remember_assignment(self, request: Doc | None) -> None:
        if request is None:
            return
        if request.get("state") != State.ASSIGNED or request.get("acknowledged") is not False:
            self._awaiting_ack.pop(request["_id"], None)  # requeued, cancelled, ...: no longer awaited
            return
        self._awaiting_ack[request["_id"]] = {field: request.get(field) for field in ASSIGNMENT_FIELDS}
        self._awaiting_ack.move_to_end(request["_id"])
        while len(self._awaiting_ack) > ASSIGNMENTS_REMEMBERED:
            self._awaiting_ack.popitem(last=False)

    def awaiting_acknowledgement(self, request_id: str) -> Doc | None:
        """The unacknowledged Queue assignment of the request as this process made it, if it did."""
        return self._awaiting_ack.get(request_id)

    async def ensure_indexes(self) -> None:
        await self.live.raw.create_index([("company_id", ASCENDING), ("state", ASCENDING)])
        await self.live.raw.create_index([("state", ASCENDING), ("technician_id", ASCENDING)])

    async def get(self, request_id: str) -> Doc | None:
        return await self.live.raw.find_one({"_id": request_id})

    async def archived(self, request_id: str) -> Doc | None:
        return await self.history.find_one({"_id": request_id})

    async def live_or_archived(self, request_id: str) -> Doc | None:
        return await self.get(request_id) or await self.archived(request_id)

    async def tombstone(self, request_id: str, fields: Doc, *, keep_until: datetime) -> bool:
        """Records the end of a request never seen live (its cancellation overtook it), among
        the live requests until `keep_until` (the sweeper archives it then, or as soon as the
        submission came): the submission, inserted later, finds it. False when the request is
        live already (the submission came in meanwhile)."""
        try:
            await self.live.raw.insert_one({"_id": request_id, **fields, "rev": 0, KEEP_UNTIL: keep_until})
        except DuplicateKeyError:
            return False
        return True

    async def insert_new(self, document: Doc, *, may_repeat: bool = True) -> Doc:
        """Stores a submitted request once; a repeat gets the stored (or archived) one back.

        A cancellation that overtook the submission left its tombstone among the live
        requests, so the insert finds it. Only a delivery that may repeat an earlier one
        (`may_repeat`) can find its request archived already: the history is checked then, after
        the insert — archiving writes the history before it deletes the live document, so a
        repeat racing an archive still sees it. A first delivery saves that store command.
        """
        stored = {**document, "state": State.NEW, "rev": 0}
        try:
            await self.live.raw.insert_one(stored)
        except DuplicateKeyError:  # a repeat (the first delivery stored it), or a tombstone
            stored = await self.get(document["_id"]) or {}
            if stored.get(KEEP_UNTIL) is not None:  # the submission it waited for: free to archive
                await self.live.raw.update_one({"_id": document["_id"]}, {"$unset": {KEEP_UNTIL: ""}})
        if not may_repeat:
            return stored
        archived = await self.archived(document["_id"])
        if archived is not None:
            await self.live.raw.delete_one({"_id": document["_id"], "state": State.NEW, "rev": 0})
            return archived
        return stored

    async def apply(self, request: Doc, change: Change, events: Sequence[Envelope[Any]] = ()) -> Doc | None:
        """Applies `change` if nobody changed `request` since it was read; the request after,
        or None if someone did."""
        update: dict[str, dict[str, Any]] = {"$set": change.set, "$inc": {"rev": 1}}
        if change.unset:
            update["$unset"] = {field: "" for field in change.unset}
        # Remembered before the write: its events are published inside it, and the technician
        # may answer one before it returns (a stale entry is harmless, see `_awaiting_ack`).
        self._remember_assignment({**request, **change.set})
        done = await self.live.update({"_id": request["_id"], "rev": request["rev"]}, update, events)
        if done is None:
            CONTENTION.lost_writes += 1
            self._open_offers.pop(request["_id"], None)
        else:
            self._remember_offer(done)
        self._remember_assignment(done if done is not None else request)
        return done

    async def apply_to_assignment(
        self,
        request_id: str,
        technician_id: str,
        change: Change,
        *,
        company_ids: list[str] | None = None,
        unacknowledged: int | None = None,
        events: Sequence[Envelope[Any]] = (),
    ) -> Doc | None:
        """Applies `change` (a step from ASSIGNED) to the technician's assignment in one write,
        without reading it first; None when the request is not assigned to them.

        `unacknowledged`: only to that assignment (its number) while not yet acknowledged, so
        the `events` it stages are staged once, by the write that changed the state."""
        query: Doc = {"_id": request_id, "state": State.ASSIGNED, "technician_id": technician_id}
        if company_ids is not None:
            query["company_id"] = {"$in": company_ids}
        if unacknowledged is not None:
            query["acknowledged"] = False
            query["assignment"] = unacknowledged
        update: dict[str, dict[str, Any]] = {"$set": change.set, "$inc": {"rev": 1}}
        if change.unset:
            update["$unset"] = {field: "" for field in change.unset}
        done = await self.live.update(query, update, events)
        self._remember_assignment(done)  # acknowledged, completed: no longer awaited
        if done is not None:
            self._remember_offer(done)
        return done

    async def waiting(self, company_id: str) -> list[Doc]:
        """The company's line: its new and queued requests, FIFO fields only."""
        cursor = self.live.raw.find(
            {"company_id": company_id, "state": {"$in": [State.NEW, State.QUEUED]}},
            projection={"queued_since": 1, "state": 1},
        )
        return [d async for d in cursor]

    async def unserved_of(self, company_id: str) -> list[Doc]:
        """The company's requests nobody serves yet: new, queued or offered (a deleted company's)."""
        query = {"company_id": company_id, "state": {"$in": [State.NEW, State.QUEUED, State.OFFERED]}}
        return [d async for d in self.live.raw.find(query)]

    async def oldest_queued(self, company_id: str) -> Doc | None:
        cursor = self.live.raw.find({"company_id": company_id, "state": State.QUEUED})
        head = await cursor.sort([("queued_since", ASCENDING), ("_id", ASCENDING)]).limit(1).to_list()
        return head[0] if head else None

    async def open_offers(self, company_ids: list[str]) -> list[Doc]:
        return [d async for d in self.live.raw.find({"state": State.OFFERED, "company_id": {"$in": company_ids}})]

    async def waiting_per_company(self) -> dict[str, int]:
        """Queued requests and open offers, counted per company (a periodic metric read)."""
        counts: dict[str, int] = {}
        query: Doc = {"state": {"$in": [State.QUEUED, State.OFFERED]}}
        async for document in self.live.raw.find(query, projection={"company_id": 1}):
            counts[document["company_id"]] = counts.get(document["company_id"], 0) + 1
        return counts

    async def waiting_states(self, company_ids: list[str]) -> set[tuple[str, str]]:
        """(company, state) of the queued requests and open offers of `company_ids`."""
        cursor = self.live.raw.find(
            {"state": {"$in": [State.QUEUED, State.OFFERED]}, "company_id": {"$in": company_ids}},
            projection={"company_id": 1, "state": 1},
        )
        return {(d["company_id"], d["state"]) async for d in cursor}

    async def stepping_back(self, technician_id: str, company_ids: list[str] | None) -> tuple[list[Doc], list[Doc]]:
        """The technician's open offers and unacknowledged Queue assignments (of `company_ids`,
        or all of them), in one query: (offers, assignments)."""
        query: Doc = {
            "$or": [
                {"state": State.OFFERED, "offered_to": technician_id},
                {
                    "state": State.ASSIGNED,
                    "technician_id": technician_id,
                    "mode": ConnectionMode.QUEUE,
                    "acknowledged": False,
                },
            ]
        }
        if company_ids is not None:
            query["company_id"] = {"$in": company_ids}
        found = [d async for d in self.live.raw.find(query)]
        return [d for d in found if d["state"] == State.OFFERED], [d for d in found if d["state"] == State.ASSIGNED]

    async def transfers_to(self, technician_id: str, company_ids: list[str]) -> list[Doc]:
        """Chats a colleague asked the technician to take over, still waiting for an answer."""
        query = {"state": State.ASSIGNED, "transfer.to": technician_id, "company_id": {"$in": company_ids}}
        return [d async for d in self.live.raw.find(query)]

    async def invitations_to(self, technician_id: str, company_ids: list[str]) -> list[Doc]:
        """Chats a colleague invited the technician to join, still waiting for an answer."""
        query = {"state": State.ASSIGNED, "invitation.to": technician_id, "company_id": {"$in": company_ids}}
        return [d async for d in self.live.raw.find(query)]

    async def inbox(self, technician_id: str, company_ids: list[str]) -> list[Doc]:
        """Open offers made to the technician, requests assigned to them and chats they
        joined as a guest, oldest first."""
        cursor = self.live.raw.find(
            {
                "company_id": {"$in": company_ids},
                "$or": [
                    {"state": State.OFFERED, "offered_to": technician_id},
                    {"state": State.ASSIGNED, "technician_id": technician_id},
                    {"state": State.ASSIGNED, "guests.technician_id": technician_id},
                ],
            }
        )
        return sorted([d async for d in cursor], key=lambda r: (r["submitted_at"], r["_id"]))

    async def archive(self, request_id: str) -> bool:
        """Moves a finished request whose events are all published to the history."""
        document = await self.live.raw.find_one({"_id": request_id, "state": {"$in": list(FINISHED)}, **NOT_STAGED})
        if document is None:
            return False
        await self._file(document)
        return True

    async def sweep_view(self, now: datetime, stuck: datetime) -> "SweepView":
        """Everything one sweep needs from the live requests, in one query: the embedded
        store scans the collection for every query, so three questions cost three scans."""
        cursor = self.live.raw.find(
            {
                "$or": [
                    {"state": State.NEW, "created_at": {"$lt": stuck}},
                    {"state": {"$in": [State.QUEUED, State.OFFERED]}},
                    {"state": State.ASSIGNED, "ack_deadline": {"$lt": now}},
                    {"state": State.ASSIGNED, "transfer.expires_at": {"$lt": now}},
                    {"state": State.ASSIGNED, "invitation.expires_at": {"$lt": now}},
                    {"state": {"$in": list(FINISHED)}, **NOT_STAGED},
                ]
            }
        )
        view = SweepView()
        companies: set[str] = set()
        overdue: set[str] = set()
        async for document in cursor:
            state = document["state"]
            if state in FINISHED:
                # Archived only once its guests are let go (and their slots freed).
                if needs_closing(document):
                    view.due.append(document)
                elif _archivable(document, now):
                    view.finished.append(document)
                continue
            if state in (State.QUEUED, State.OFFERED):
                companies.add(document["company_id"])
                if document.get("created_at", stuck) <= stuck:
                    overdue.add(document["company_id"])
            expires_at = document.get("offer_expires_at")
            if state == State.OFFERED and (expires_at is None or expires_at >= now):
                continue  # open, not expired
            if state != State.QUEUED:
                view.due.append(document)
        view.waiting_companies = sorted(companies)
        view.overdue_companies = sorted(overdue)
        return view

    async def archive_finished(self, finished: list[Doc] | None = None) -> int:
        """Files every finished, fully published request (or those of `finished`, as read by
        `sweep_view`) in the history, in two bulk writes."""
        if finished is None:
            moment = datetime.now(UTC)
            found = self.live.raw.find({"state": {"$in": list(FINISHED)}, **NOT_STAGED})
            finished = [d async for d in found if _archivable(d, moment)]
        documents = [{k: v for k, v in d.items() if not k.startswith("_outbox")} for d in finished]
        if not documents:
            return 0
        try:
            await self.history.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            # Already filed (an earlier archive stopped half way): the copy there is the same.
            if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise
        await self.live.raw.delete_many({"$or": [{"_id": d["_id"], "rev": d["rev"]} for d in documents]})
        return len(documents)

    async def _file(self, document: Doc) -> None:
        kept = {k: v for k, v in document.items() if not k.startswith("_outbox")}
        await self.history.replace_one({"_id": document["_id"]}, kept, upsert=True)
        await self.live.raw.delete_one({"_id": document["_id"], "rev": document["rev"]})

"""The `technicians` collection: profile (from TechnicianUpdated), chosen status, what routing
was last told (with the per-technician sequence) and notification preferences.

Every change is one conditional single-document write; availability events ride in the
same write through the outbox.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from contracts import Envelope, TechnicianUpdated
from contracts.vocabulary import UnavailableReason
from presence_svc.domain.availability import ChosenStatus, Lease, Routing, Technician
from presence_svc.domain.preferences import Preferences
from presence_svc.domain.status_history import ShownChange
from servicekit.outbox import OutboxCollection


def _routing(raw: dict[str, Any] | None) -> Routing | None:
    if raw is None:
        return None
    return Routing(tuple(raw["company_ids"]), raw["capacity"], raw["display_name"])


def _aware(moment: datetime) -> datetime:
    # The driver hands back naive UTC datetimes unless the client is tz-aware.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _leases(raw: dict[str, Any] | None) -> dict[str, Lease]:
    return {
        replica: Lease(_aware(lease["until"]), int(lease.get("sockets", 0)))
        for replica, lease in (raw or {}).items()
        if isinstance(lease, dict) and "until" in lease
    }


def _technician(doc: dict[str, Any]) -> Technician:
    return Technician(
        technician_id=doc["_id"],
        account_id=doc["account_id"],
        display_name=doc["display_name"],
        company_ids=tuple(doc["company_ids"]),
        capacity=doc["capacity"],
        enabled=doc["enabled"],
        chosen=ChosenStatus(doc["chosen"]),
        sequence=doc["sequence"],
        published=_routing(doc.get("published")),
        leases=_leases(doc.get("leases")),
        chosen_reason=UnavailableReason(doc.get("chosen_reason") or UnavailableReason.CHOSEN.value),
        missed=int(doc.get("missed", 0)),
        chats_open=len(doc.get("chats") or {}),
        since=_aware(doc["since"]) if doc.get("since") else None,
        shown=doc.get("shown"),
        history_days=tuple(doc["history_days"]) if "history_days" in doc else None,
    )


LIVE_FIELDS = {"preferences": 0, "available_payload": 0, "asks": 0, "ended": 0}
"""What views of the technician never need (the offers map stays small, but is only for the
streak code)."""


def _published_doc(published: Routing | None) -> dict[str, Any] | None:
    if published is None:
        return None
    return {
        "company_ids": list(published.company_ids),
        "capacity": published.capacity,
        "display_name": published.display_name,
    }


@dataclass(frozen=True)
class Told:
    """What routing is told about a technician (see `record`)."""

    published: Routing | None
    available_payload: dict[str, Any] | None
    sequence: int


def technician_with_preferences(doc: dict[str, Any]) -> tuple[Technician, Preferences]:
    return _technician(doc), Preferences.model_validate(doc.get("preferences") or {})


class TechnicianRepository:
    def __init__(self, writer: OutboxCollection) -> None:
        self.writer = writer
        self.collection = writer.raw

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("company_ids", ASCENDING)])
        await self.collection.create_index([("published", ASCENDING)], sparse=True)

    async def get(self, technician_id: str) -> Technician | None:
        doc = await self.collection.find_one({"_id": technician_id}, LIVE_FIELDS)
        return _technician(doc) if doc else None

    async def get_many(self, technician_ids: Iterable[str]) -> dict[str, tuple[Technician, Preferences]]:
        """Several technicians with their preferences, in one read by `_id`."""
        ids = list(dict.fromkeys(technician_ids))
        if len(ids) == 1:
            doc = await self.collection.find_one({"_id": ids[0]})
            docs = [doc] if doc else []
        else:
            docs = [doc async for doc in self.collection.find({"_id": {"$in": ids}})]
        return {doc["_id"]: technician_with_preferences(doc) for doc in docs}

    # -- leases (one document write per socket event, one write per replica to renew) ----

    async def attach(self, technician_id: str, replica: str, until: datetime) -> tuple[Technician, Preferences] | None:
        """A socket of the technician opened on `replica`, which vouches for them until `until`."""
        doc = await self.collection.find_one_and_update(
            {"_id": technician_id},
            {"$set": {f"leases.{replica}.until": until}, "$inc": {f"leases.{replica}.sockets": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return technician_with_preferences(doc) if doc else None

    async def detach(self, technician_id: str, replica: str, *, now: datetime, last: bool) -> Technician | None:
        """A socket closed on `replica`; on its last one there the lease ends now (the grace
        period starts)."""
        update: dict[str, Any] = {"$inc": {f"leases.{replica}.sockets": -1}}
        if last:
            update["$set"] = {f"leases.{replica}.until": now, f"leases.{replica}.sockets": 0}
            del update["$inc"]
        doc = await self.collection.find_one_and_update(
            {"_id": technician_id}, update, projection={"preferences": 0}, return_document=ReturnDocument.AFTER
        )
        return _technician(doc) if doc else None

    async def renew(self, technician_ids: list[str], replica: str, until: datetime) -> None:
        """One write for every technician this replica holds sockets of."""
        await self.collection.update_many(
            {"_id": {"$in": technician_ids}}, {"$set": {f"leases.{replica}.until": until}}
        )

    async def forget_leases(self, technician_id: str, stale: dict[str, datetime]) -> None:
        """Drop leases that ended long ago, unless renewed since they were read (a replica
        the technician just reconnected to)."""
        await self.collection.update_one(
            {"_id": technician_id, **{f"leases.{replica}.until": until for replica, until in stale.items()}},
            {"$unset": {f"leases.{replica}": "" for replica in stale}},
        )

    async def published_available(self) -> list[Technician]:
        """Everyone routing currently counts as available (a bounded set: technicians)."""
        cursor = self.collection.find({"published": {"$ne": None}}, {"preferences": 0})
        return [_technician(doc) async for doc in cursor]

    async def preferences(self, technician_id: str) -> tuple[Preferences, int] | None:
        doc = await self.collection.find_one({"_id": technician_id}, {"preferences": 1, "preferences_version": 1})
        if doc is None:
            return None
        return Preferences.model_validate(doc.get("preferences") or {}), doc.get("preferences_version", 0)

    async def save_profile(self, event: TechnicianUpdated) -> bool:
        """Store a newer revision of the profile; False for a stale or repeated event."""
        try:
            await self.collection.update_one(
                {"_id": event.technician_id, "revision": {"$lt": event.revision}},
                {
                    "$set": {
                        "account_id": event.account_id,
                        "display_name": event.display_name,
                        "company_ids": list(event.company_ids),
                        "capacity": event.capacity,
                        "enabled": event.enabled,
                        "revision": event.revision,
                    },
                    "$setOnInsert": {
                        "chosen": ChosenStatus.UNAVAILABLE.value,
                        "sequence": 0,
                        "published": None,
                        "available_payload": None,
                        "preferences": Preferences().model_dump(),
                        "preferences_version": 0,
                        "leases": {},
                    },
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the document exists with this revision or a newer one
        return True

    async def set_chosen(
        self, technician_id: str, chosen: ChosenStatus, reason: UnavailableReason = UnavailableReason.CHOSEN
    ) -> Technician | None:
        """The technician after (None if unknown)."""
        change: dict[str, Any] = {"chosen": chosen.value, "chosen_reason": reason.value}
        if chosen is ChosenStatus.AVAILABLE:
            change["missed"] = 0  # choosing Available again is the technician's answer
        return await self._change(technician_id, {"$set": change})

    async def miss_and_stop(self, technician_id: str, *, limit: int) -> bool:
        """Set the technician unavailable for missed requests if they still chose Available
        and the streak still reaches `limit` (one conditional write: exactly once)."""
        result = await self.collection.update_one(
            {"_id": technician_id, "chosen": ChosenStatus.AVAILABLE.value, "missed": {"$gte": limit}},
            {
                "$set": {
                    "chosen": ChosenStatus.UNAVAILABLE.value,
                    "chosen_reason": UnavailableReason.MISSED_REQUESTS.value,
                    "missed": 0,
                }
            },
        )
        return result.modified_count == 1

    # -- the streak of unanswered requests (`asks`: the open offers / assignments, by request) --

    async def asked(
        self, technician_ids: list[str], request_id: str, deadline: datetime, *, at: datetime
    ) -> list[Technician]:
        """An offer (until `deadline`) reached these technicians. A later offer of a request one
        was already offered means the earlier one lapsed unanswered: their streak grows (`at`,
        when dispatch said so, is kept as the latest miss). The technicians whose streak grew,
        as stored after (none for first offers and repeats).

        A first offer to everyone, the usual case, is one write for all of them: the lapse
        write and its read only run when some technician already had an ask of this request."""
        ids = list(dict.fromkeys(technician_ids))
        field = f"asks.{request_id}"
        first = await self.collection.update_many(
            {"_id": {"$in": ids}, field: {"$exists": False}}, {"$set": {field: deadline}}
        )
        if first.matched_count >= len(ids):
            return []
        # Moved on by the very write that counts the miss, so each lapse is counted once.
        lapsed = await self.collection.update_many(
            {"_id": {"$in": ids}, field: {"$lt": deadline}},
            {"$set": {field: deadline}, "$inc": {"missed": 1}, "$max": {"missed_at": at}},
        )
        if not lapsed.modified_count:
            return []
        cursor = self.collection.find({"_id": {"$in": ids}, "missed": {"$gt": 0}}, LIVE_FIELDS)
        return [_technician(doc) async for doc in cursor]

    async def assigned(self, technician_id: str, request_id: str, *, ask_at: datetime | None) -> Technician | None:
        """A request was assigned to the technician: one more chat open, and either an ask
        awaiting their acknowledgement (a Queue assignment, since `ask_at`) or their own
        answer (they took it: the streak starts again). One write; the technician after.
        Nothing opens when the chat's end came first (see `chat_closed`)."""
        field = f"asks.{request_id}"
        change: dict[str, Any] = {"$set": {f"chats.{request_id}": True}}
        if ask_at is not None:
            change["$set"][field] = ask_at
        else:
            change["$set"]["missed"] = 0
            change["$unset"] = {field: ""}
        opened = await self._change(technician_id, change, unless_ended=request_id)
        if opened is not None:
            return opened
        # The chat's end came first: only their answer counts (the streak starts again).
        return (
            await self._change(technician_id, {"$set": {"missed": 0}})
            if ask_at is None
            else await self.get(technician_id)
        )

    async def lapsed(self, technician_id: str, request_id: str, *, at: datetime) -> Technician | None:
        """The technician's offer or assignment of the request lapsed (counted once: the ask
        is removed by the same write; `at`, when dispatch said so, is kept as the latest miss).
        The technician after, or None if already counted."""
        field = f"asks.{request_id}"
        doc = await self.collection.find_one_and_update(
            {"_id": technician_id, field: {"$exists": True}},
            {"$unset": {field: ""}, "$inc": {"missed": 1}, "$max": {"missed_at": at}},
            projection=LIVE_FIELDS,
            return_document=ReturnDocument.AFTER,
        )
        return _technician(doc) if doc else None

    async def acknowledged(self, technician_id: str, request_id: str, at: datetime) -> bool:
        """The technician acknowledged their Queue assignment at `at`: their answer, so the
        streak starts again, unless a miss dispatch recorded after `at` was already counted
        (the events come from separate queues, so an old acknowledgement may arrive after a
        newer miss: that miss stands). The ask goes either way. False when a later miss stood."""
        field = f"asks.{request_id}"
        reset = await self.collection.update_one(
            {"_id": technician_id, "$or": [{"missed_at": {"$exists": False}}, {"missed_at": {"$lte": at}}]},
            {"$unset": {field: ""}, "$set": {"missed": 0}},
        )
        if reset.matched_count:
            return True
        await self.collection.update_one({"_id": technician_id}, {"$unset": {field: ""}})
        return False

    async def forget_ask(self, technician_ids: list[str], request_id: str) -> None:
        """Not theirs to answer any more (taken by someone else, cancelled): neither a miss nor an answer."""
        if technician_ids:
            await self.collection.update_many({"_id": {"$in": technician_ids}}, {"$unset": {f"asks.{request_id}": ""}})

    # -- chats open (`chats`: request ids assigned to them whose chat has not ended) ---------

    async def chat_opened(self, technician_id: str, request_id: str) -> Technician | None:
        opened = await self._change(technician_id, {"$set": {f"chats.{request_id}": True}}, unless_ended=request_id)
        return opened or await self.get(technician_id)

    async def chat_closed(
        self,
        technician_id: str,
        request_id: str,
        *,
        answered: bool = False,
        forget_ask: bool = False,
        final: bool = False,
    ) -> Technician | None:
        """The chat is no longer theirs (ended, moved, cancelled). `answered`: they answered the
        request (the streak starts again); `forget_ask`: it is not theirs to answer any more.
        Either way its ask goes in the same write. The technician after.

        `final`: the request is over (its chat ended, or it was cancelled), so no assignment of
        it can come after. Its assignment arrives on another queue and may come later still:
        when no chat of it was open, its end is remembered (`ended`, pruned by `prune`) so that
        the late assignment opens nothing — else every such chat stayed open for good."""
        change: dict[str, Any] = {"$unset": {f"chats.{request_id}": ""}}
        if answered or forget_ask:
            change["$unset"][f"asks.{request_id}"] = ""
        if answered:
            change["$set"] = {"missed": 0}
        if not final:
            return await self._change(technician_id, change)
        closed = await self._change(technician_id, change, only_if_open=request_id)
        if closed is not None:
            return closed
        change.setdefault("$set", {})[f"ended.{request_id}"] = datetime.now(UTC)
        return await self._change(technician_id, change)

    async def prune(self, before: datetime) -> int:
        """Forgets asks whose deadline passed before `before` (their lapse or answer would
        have come long since: an event overtaken by another left them behind) and ends
        remembered since then; how many technicians changed. Each write is conditional on the
        values read, so an ask renewed meanwhile stays."""
        changed = 0
        cursor = self.collection.find(
            {"$or": [{"asks": {"$exists": True, "$ne": {}}}, {"ended": {"$exists": True, "$ne": {}}}]},
            {"asks": 1, "ended": 1},
        )
        async for doc in cursor:
            stale = {
                f"{kind}.{request_id}": at
                for kind in ("asks", "ended")
                for request_id, at in (doc.get(kind) or {}).items()
                if isinstance(at, datetime) and _aware(at) < before
            }
            if stale:
                done = await self.collection.update_one(
                    {"_id": doc["_id"], **stale}, {"$unset": dict.fromkeys(stale, "")}
                )
                changed += done.modified_count
        return changed

    async def _change(
        self,
        technician_id: str,
        change: dict[str, Any],
        *,
        unless_ended: str | None = None,
        only_if_open: str | None = None,
    ) -> Technician | None:
        """One write by `_id`, returning the technician after (for the help centers' status
        frame, without reading them again). `unless_ended`: only if that request's end is
        not remembered; `only_if_open`: only if its chat is open. None when nothing matched."""
        filter: dict[str, Any] = {"_id": technician_id}
        if unless_ended is not None:
            filter[f"ended.{unless_ended}"] = {"$exists": False}
        if only_if_open is not None:
            filter[f"chats.{only_if_open}"] = {"$exists": True}
        doc = await self.collection.find_one_and_update(
            filter, change, projection=LIVE_FIELDS, return_document=ReturnDocument.AFTER
        )
        return _technician(doc) if doc else None

    # -- the state the roster shows, and the history index --------------------------------

    async def history_days(self, technician_id: str) -> tuple[str, list[str]] | None:
        """The technician's account and their history days (oldest first)."""
        doc = await self.collection.find_one({"_id": technician_id}, {"account_id": 1, "history_days": 1})
        if doc is None:
            return None
        return doc["account_id"], list(doc.get("history_days") or [])

    async def of_account(self, account_id: str) -> list[Technician]:
        """The account's technicians (a bounded set: people, not requests)."""
        cursor = self.collection.find({"account_id": account_id, "enabled": True}, LIVE_FIELDS)
        return [_technician(doc) async for doc in cursor]

    async def record(
        self,
        technician: Technician,
        *,
        told: Told | None = None,
        chosen: ChosenStatus | None = None,
        shown: ShownChange | None = None,
        keep_days: int = 0,
        events: Sequence[Envelope[Any]] = (),
    ) -> Technician | None:
        """One conditional write of what changed for the technician as read (`technician`):
        what routing is told (`told`, with its events), a newly chosen status (as chosen by
        the technician: a missed-requests stop ends with it), the shown state. Only if
        nobody changed routing (the sequence) nor, when `shown` is given, recorded a shown
        state meanwhile; the technician as stored after, or None."""
        filter: dict[str, Any] = {"_id": technician.technician_id, "sequence": technician.sequence}
        change: dict[str, Any] = {"$set": {}}
        if told is not None:
            change["$set"] |= {
                "sequence": told.sequence,
                "published": _published_doc(told.published),
                "available_payload": told.available_payload,
            }
        if chosen is not None:
            change["$set"] |= {"chosen": chosen.value, "chosen_reason": UnavailableReason.CHOSEN.value}
            if chosen is ChosenStatus.AVAILABLE:
                change["$set"]["missed"] = 0  # choosing Available again is the technician's answer
        if shown is not None:
            filter["shown"] = shown.before
            change["$set"] |= {"shown": shown.after, "since": shown.at}
            if shown.new_day is not None:
                filter["history_days"] = {"$ne": shown.new_day}  # each day once, however stale the read
                change["$push"] = {"history_days": {"$each": [shown.new_day], "$slice": -keep_days}}
        after = await self.writer.update(filter, change, events)
        return _technician(after) if after is not None else None

    async def save_preferences(self, technician_id: str, preferences: Preferences, *, expected_version: int) -> bool:
        result = await self.collection.update_one(
            {"_id": technician_id, "preferences_version": expected_version},
            {
                "$set": {"preferences": preferences.model_dump()},
                "$inc": {"preferences_version": 1},
            },
        )
        return result.modified_count == 1

    async def ids_with_company(self, company_id: str) -> list[str]:
        return [doc["_id"] async for doc in self.collection.find({"company_ids": company_id}, {"_id": 1})]

    async def available_payloads(self, account_id: str | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"available_payload": {"$ne": None}}
        if account_id is not None:
            query["account_id"] = account_id
        cursor = self.collection.find(query, {"available_payload": 1}).sort("_id", ASCENDING)
        return [doc["available_payload"] async for doc in cursor]

"""The `alerts` collection: ONE live document per request (`_id` = request id), holding the
open alert of every technician it was shown to, and `alert_history`, where it goes once
settled.

Every hot-path command addresses the request by `_id`, so its cost does not depend on how
much the collections hold:

- opening alerts (an offer to several technicians, a Queue assignment) is one conditional
  upsert; its filter refuses a repeat, an older event and anything after a cancellation or
  a later assignment (a refused upsert surfaces as DuplicateKeyError);
- closing (assignment, withdrawal, cancellation, lost access) is one `find_one_and_update`
  returning the document before, which says whose alerts were open. A withdrawal arriving
  before its offer leaves a tombstone (`closed.<technician>`) that refuses it later.

A document settles (`settle_at`) once no event about it could open an alert any more: an
alert is only ever opened while it could still be shown (an offer until it expires, an
assignment for `ASSIGNED_ALERT_REPLAY`), and closures are remembered for `settle` after
them. The periodic `settle_due` moves settled documents to `alert_history` by `_id`; the
history keeps them for the retention, then `forget_history` (and the TTL index, on a real
MongoDB and on the embedded store alike) deletes them. So the live collection holds only the
last few minutes of requests.

An alert that is to be e-mailed carries its e-mail in the same entry (`email_state`
pending → sent), written by the very write that opens the alert; `email_due` on the
document is the earliest retry due, for the retry tick.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from presence_svc.domain.alerts import Alert, AlertKind, PendingEmail

PENDING = "pending"
SENT = "sent"
DROPPED = "dropped"
MAX_EMAIL_ATTEMPTS = 20
"""After this many tries (one per retry tick) an e-mail is given up."""
SETTLE_BATCH = 500


def _alert(doc: dict[str, Any], technician_id: str, entry: dict[str, Any]) -> Alert:
    return Alert(
        request_id=doc["_id"],
        technician_id=technician_id,
        account_id=doc["account_id"],
        company_id=doc["company_id"],
        customer_name=doc["customer_name"],
        description=doc["description"],
        portal_type=doc["portal_type"],
        expires_at=entry["expires_at"],
        kind=AlertKind(entry["kind"]),
        issued_at=entry["issued_at"],
    )


def _open_alerts(doc: dict[str, Any] | None) -> list[Alert]:
    if not doc:
        return []
    return [_alert(doc, technician_id, entry) for technician_id, entry in (doc.get("open") or {}).items()]


@dataclass(frozen=True)
class Opening:
    """An alert to open, with its e-mail recipients (none: no e-mail)."""

    alert: Alert
    email_to: Sequence[str] = ()


class AlertRepository:
    def __init__(
        self,
        collection: AsyncCollection,
        history: AsyncCollection,
        *,
        settle: timedelta,
        retention: timedelta,
    ) -> None:
        self.collection = collection
        self.history = history
        self.settle = settle
        """How long a closure is remembered in the live collection (late events)."""
        self.retention = retention
        """How long a settled request stays in the history."""

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("holders", ASCENDING)])
        await self.collection.create_index([("settle_at", ASCENDING)])
        await self.collection.create_index([("email_due", ASCENDING)], sparse=True)
        await self.history.create_index([("purge_at", ASCENDING)], expireAfterSeconds=0)

    # -- opening ---------------------------------------------------------------------------

    async def open(self, openings: Sequence[Opening], *, email_due: datetime) -> list[Alert]:
        """Open the alerts of one request (several technicians of one offer, or one
        assignee) in one write; the ones opened. A repeat, an older event, or an event of
        a cancelled or since-assigned request opens nothing."""
        if not openings:
            return []
        try:
            await self._open(openings, email_due=email_due, closing=None)
        except DuplicateKeyError:
            if len(openings) == 1:
                return []
            # Some technician already has this alert or a newer one: open the others one by one.
            opened = []
            for opening in openings:
                if await self.open([opening], email_due=email_due):
                    opened.append(opening.alert)
            return opened
        return [opening.alert for opening in openings]

    async def assign(self, assignee: Opening | None, *, request_id: str, at: datetime) -> list[str] | None:
        """A request was assigned at `at`: every alert issued before closes and, for Queue
        mode, the assignee's opens (same write). The technicians whose alerts were open
        before, or None when this assignment is stale or repeated."""
        try:
            before = await self._open([assignee] if assignee else [], email_due=at, closing=(request_id, at))
        except DuplicateKeyError:
            return None
        return list((before or {}).get("holders", []))

    async def _open(
        self,
        openings: Sequence[Opening],
        *,
        email_due: datetime,
        closing: tuple[str, datetime] | None,
    ) -> dict[str, Any] | None:
        alerts = [opening.alert for opening in openings]
        request_id = closing[0] if closing else alerts[0].request_id
        issued = closing[1] if closing else max(a.issued_at for a in alerts)
        filter: dict[str, Any] = {
            "_id": request_id,
            "cancelled": {"$ne": True},
            "closed_at": {"$not": {"$gt": issued}},
        }
        update: dict[str, Any] = {"$set": {}, "$max": {}}
        for opening in openings:
            alert = opening.alert
            filter[f"open.{alert.technician_id}.issued_at"] = {"$not": {"$gte": alert.issued_at}}
            filter[f"closed.{alert.technician_id}"] = {"$not": {"$gte": alert.issued_at}}
            entry: dict[str, Any] = {
                "kind": alert.kind.value,
                "issued_at": alert.issued_at,
                "expires_at": alert.expires_at,
                "email_attempts": 0,
            }
            if opening.email_to:
                entry |= {
                    "email_state": PENDING,
                    "email_id": alert.message_id,
                    "email_to": list(opening.email_to),
                    "email_due": email_due,
                }
                update.setdefault("$min", {})["email_due"] = email_due
                update.setdefault("$inc", {})["email_version"] = 1
            update["$set"][f"open.{alert.technician_id}"] = entry
        if alerts:
            first = alerts[0]
            update["$set"] |= {
                "account_id": first.account_id,
                "company_id": first.company_id,
                "customer_name": first.customer_name,
                "description": first.description,
                "portal_type": first.portal_type,
            }
            update["$max"]["settle_at"] = max(a.shown_until for a in alerts)
        if closing is None:
            update["$addToSet"] = {"holders": {"$each": [a.technician_id for a in alerts]}}
            await self.collection.update_one(filter, update, upsert=True)
            return None
        # An assignment: the open map is replaced (the assignee's alert, or nothing).
        update["$set"] = {
            **{k: v for k, v in update["$set"].items() if not k.startswith("open.")},
            "open": {a.technician_id: update["$set"][f"open.{a.technician_id}"] for a in alerts},
            "holders": [a.technician_id for a in alerts],
        }
        update["$max"]["closed_at"] = issued
        update["$max"]["settle_at"] = max(update["$max"].get("settle_at", issued), issued + self.settle)
        return await self.collection.find_one_and_update(
            filter, update, upsert=True, return_document=ReturnDocument.BEFORE
        )

    # -- closing ---------------------------------------------------------------------------

    async def close(self, request_id: str, technician_ids: Iterable[str], *, at: datetime) -> list[str]:
        """Close these technicians' alerts of the request if issued by `at`; the ones that
        were open. Remembered, so an offer issued before `at` arriving later stays closed."""
        ids = list(dict.fromkeys(technician_ids))
        if not ids:
            return []
        try:
            before = await self._close(request_id, ids, at)
        except DuplicateKeyError:
            if len(ids) == 1:
                return []  # a newer alert than this withdrawal: it stays
            closed = []
            for technician_id in ids:
                closed += await self.close(request_id, [technician_id], at=at)
            return closed
        open_before = (before or {}).get("open") or {}
        return [t for t in ids if t in open_before]

    async def _close(self, request_id: str, ids: list[str], at: datetime) -> dict[str, Any] | None:
        filter: dict[str, Any] = {"_id": request_id}
        for technician_id in ids:
            filter[f"open.{technician_id}.issued_at"] = {"$not": {"$gt": at}}
        return await self.collection.find_one_and_update(
            filter,
            {
                "$unset": {f"open.{t}": "" for t in ids},
                "$pull": {"holders": {"$in": ids}},
                "$max": {**{f"closed.{t}": at for t in ids}, "settle_at": at + self.settle},
            },
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )

    async def cancel(self, request_id: str, at: datetime) -> list[str]:
        """The request was cancelled: every alert closes and none opens any more; the
        technicians whose alerts were open."""
        before = await self.collection.find_one_and_update(
            {"_id": request_id},
            {"$set": {"cancelled": True, "open": {}, "holders": []}, "$max": {"settle_at": at + self.settle}},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        return list((before or {}).get("holders", []))

    # -- reads -----------------------------------------------------------------------------

    async def open_for_technician(self, technician_id: str) -> list[Alert]:
        """Open alerts of a technician (a help center connecting; a change of access). The
        live collection only holds the last minutes' requests."""
        alerts = [
            _alert(doc, technician_id, doc["open"][technician_id])
            async for doc in self.collection.find({"holders": technician_id})
            if technician_id in (doc.get("open") or {})
        ]
        return sorted(alerts, key=lambda alert: alert.issued_at)

    async def open_for_request(self, request_id: str) -> list[Alert]:
        return _open_alerts(await self.collection.find_one({"_id": request_id}))

    # -- e-mail ----------------------------------------------------------------------------

    async def email_sent(self, email: PendingEmail) -> bool:
        """Mark the e-mail sent, if it is still this alert's pending e-mail."""
        return await self._email_state(email, SENT)

    async def drop_email(self, email: PendingEmail) -> None:
        await self._email_state(email, DROPPED)

    async def _email_state(self, email: PendingEmail, state: str) -> bool:
        entry = f"open.{email.alert.technician_id}"
        result = await self.collection.update_one(
            {"_id": email.alert.request_id, f"{entry}.email_id": email.message_id, f"{entry}.email_state": PENDING},
            {"$set": {f"{entry}.email_state": state}},
        )
        return result.modified_count == 1

    async def claim_due_emails(self, now: datetime, *, retry_at: datetime, limit: int) -> list[PendingEmail]:
        """Pending e-mails of open alerts due by `now`, moved to `retry_at` so that no other
        tick (of any replica) takes them meanwhile."""
        claimed: list[PendingEmail] = []
        cursor = self.collection.find({"email_due": {"$lte": now}}).limit(limit)
        async for doc in cursor:
            due: list[tuple[str, dict[str, Any]]] = []
            later: list[tuple[str, dict[str, Any]]] = []
            for technician_id, entry in (doc.get("open") or {}).items():
                if entry.get("email_state") != PENDING or entry.get("email_attempts", 0) >= MAX_EMAIL_ATTEMPTS:
                    continue
                (due if entry["email_due"] <= now else later).append((technician_id, entry))
            update: dict[str, Any] = {}
            next_due = min([retry_at] * bool(due) + [entry["email_due"] for _, entry in later], default=None)
            if next_due is None:
                update["$unset"] = {"email_due": ""}
            else:
                update["$set"] = {"email_due": next_due}
            for technician_id, _ in due:
                update.setdefault("$set", {})[f"open.{technician_id}.email_due"] = retry_at
                update.setdefault("$inc", {})[f"open.{technician_id}.email_attempts"] = 1
            # Unchanged since read (no e-mail recorded meanwhile), or someone else claims it.
            result = await self.collection.update_one(
                {"_id": doc["_id"], "email_version": doc.get("email_version"), "email_due": doc["email_due"]},
                update,
            )
            if result.modified_count != 1:
                continue
            claimed += [
                PendingEmail(_alert(doc, t, entry), tuple(entry["email_to"]), entry["email_id"]) for t, entry in due
            ]
        return claimed

    # -- leaving the live collection -------------------------------------------------------

    async def settle_due(self, now: datetime | None = None) -> int:
        """Periodic: move settled requests to the history (by `_id`). Returns how many moved."""
        now = now or datetime.now(UTC)
        docs = [doc async for doc in self.collection.find({"settle_at": {"$lte": now}}).limit(SETTLE_BATCH)]
        if docs:
            purge_at = now + self.retention
            try:
                await self.history.insert_many([{**doc, "purge_at": purge_at} for doc in docs], ordered=False)
            except BulkWriteError as error:  # moved before by a tick that stopped half-way
                if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
                    raise
            # Not one whose settle_at moved on since it was read (a late closure).
            await self.collection.delete_many(
                {"_id": {"$in": [doc["_id"] for doc in docs]}, "settle_at": {"$lte": now}}
            )
        return len(docs)

    async def forget_history(self, now: datetime | None = None) -> int:
        """Periodic and rare: delete history past its retention. The TTL index does it on
        a real MongoDB and on the embedded store; this covers a store with neither. It
        scans the history on the embedded store, so it runs every few minutes, not with
        each settle."""
        result = await self.history.delete_many({"purge_at": {"$lte": now or datetime.now(UTC)}})
        return result.deleted_count

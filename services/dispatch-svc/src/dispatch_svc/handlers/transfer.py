"""Transfer to a colleague: the chat's technician offers the request to another technician of
the company, who accepts (their slot claimed exactly once, the first technician's freed) or
declines; an offer nobody answers lapses (the sweeper), and the chat stays where it was.
What it shares with an invitation is in `handover`."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from contracts import ChatSessionEnded, Envelope, EventPayload
from contracts.vocabulary import ConnectionMode, TransferLapseReason, WithdrawalReason
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.domain import announcements
from dispatch_svc.domain import request as requests
from dispatch_svc.domain import transfer as transfers
from dispatch_svc.domain.errors import (
    NoTransferForYou,
    NotYourChat,
)
from dispatch_svc.domain.request import Change, State
from dispatch_svc.domain.technician import has_spare_capacity
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import MAX_ATTEMPTS, Announcer, Doc
from dispatch_svc.handlers.handover import HandOvers
from dispatch_svc.handlers.routing import Router
from servicekit.auth import Principal
from servicekit.exceptions import DomainError
from servicekit.logging import get_logger

log = get_logger(__name__)


class Transfers(HandOvers):
    what = "transfer"

    def __init__(
        self,
        requests: RequestRepository,
        technicians: TechnicianRepository,
        router: Router,
        announce: Announcer,
        *,
        timeout: float,
        offer_timeout: float,
    ) -> None:
        super().__init__(requests, technicians, router, announce, timeout=timeout)
        self.offer_timeout = timedelta(seconds=offer_timeout)

    def pending(self, request: Doc | None) -> Mapping[str, Any] | None:
        return transfers.pending(request) if request else None

    def lapsed_event(self, request: Doc, reason: TransferLapseReason) -> EventPayload:
        return transfers.lapsed_event(request, reason)

    def dropped(self, request: Doc) -> Change:
        return transfers.drop(request)

    def not_for_you(self) -> DomainError:
        return NoTransferForYou()

    async def open_to(self, technician_id: str, company_ids: list[str]) -> list[Doc]:
        return await self.requests.transfers_to(technician_id, company_ids)

    async def colleagues(self, principal: Principal, request_id: str) -> list[Doc]:
        """Who the chat could go to (or who could join it) now: the company's available
        technicians with a free slot who are not in it yet."""
        request = await self._request(principal, request_id)
        if not transfers.is_chat_of(request, principal.subject):
            raise NotYourChat()
        found = await self.technicians.eligible(request["company_id"])
        inside = {principal.subject, *requests.guest_ids(request)}
        able = [t for t in found if t["_id"] not in inside and transfers.may_take(t, request["company_id"])]
        return sorted(able, key=lambda t: (transfers.name_of(t).lower(), t["_id"]))

    async def offer(self, principal: Principal, request_id: str, to: str, note: str) -> Doc:
        me = principal.subject
        for _ in range(MAX_ATTEMPTS):
            request = await self._request(principal, request_id)
            colleague = await self.technicians.get(to)
            at = now()
            refusal = transfers.refusal(request, me, colleague, at)
            if refusal is not None:
                raise refusal
            assert colleague is not None  # refusal() checked it
            myself = await self.technicians.get(me) or {"_id": me, "display_name": principal.name}
            change = transfers.offer(request, myself, colleague, note.strip(), at, at + self.timeout)
            emitted = [*self.replaced(request), self.announce.about(request, transfers.offered_event(request, change))]
            done = await self.requests.apply(request, change, emitted)
            if done is not None:
                log.info("transfer offered", request_id=request_id, technician_id=me, to=to)
                return done
        raise NotYourChat()

    async def accept(self, principal: Principal, request_id: str) -> Doc:
        """The colleague takes the chat: their slot is claimed (exactly once, whoever clicks
        twice), the request moves to them in one write, then the first technician's slot of
        that very assignment is freed."""
        me = principal.subject
        for _ in range(MAX_ATTEMPTS):
            request = await self._request(principal, request_id)
            waiting = transfers.pending(request)
            if waiting is None and transfers.is_chat_of(request, me) and request.get("transferred_from"):
                return request  # a second click, after the first one took it
            if waiting is None or waiting["to"] != me or transfers.expired(waiting, now()):
                raise NoTransferForYou()
            at = now()
            if not await self.claim(me, request, at):
                continue
            change = transfers.accept(request, at)
            event = self.announce.about(request, transfers.transferred_event(request, change))
            done = await self.requests.apply(request, change, [event])
            if done is None:
                await self.technicians.release_slot(me, request_id, claimed_at=at)
                continue
            log.info("chat transferred", request_id=request_id, technician_id=me, was=waiting["from"])
            # Should this stop here (a crash), the sweeper frees the slot: its request is no longer theirs.
            after = await self.technicians.release_slot(waiting["from"], request_id, claimed_at=request["assigned_at"])
            if after is not None:
                await self.router.serve_technician(after)
            return done
        raise NoTransferForYou()

    async def return_to_line(self, principal: Principal, request_id: str, note: str) -> Doc:
        """Back to the company's technicians (Queue: the head of the line, this technician
        passed over; Web: offered to the others). The slot is freed; the chat stays open for
        whoever is assigned next."""
        me = principal.subject
        note = note.strip()
        for _ in range(MAX_ATTEMPTS):
            request = await self._request(principal, request_id)
            at = now()
            refusal = transfers.return_refusal(request, me, at)
            if refusal is not None:
                raise refusal
            myself = await self.technicians.get(me) or {}
            others: list[str] = []
            if request["mode"] == ConnectionMode.WEB:
                found = await self.technicians.eligible(request["company_id"])
                others = sorted(t["_id"] for t in found if t["_id"] != me and has_spare_capacity(t))
            expires_at = at + self.offer_timeout
            change = transfers.return_to_line(request, note, offered_to=others, expires_at=expires_at)
            emitted = [
                self.announce.about(
                    request, transfers.returned_event(request, transfers.name_of(myself, principal.name), note)
                )
            ]
            if request["mode"] == ConnectionMode.QUEUE:
                waiting = await self.requests.waiting(request["company_id"])
                position = len([w for w in requests.ahead_of(request, waiting) if w["state"] == State.QUEUED]) + 1
                emitted.append(self.announce.about(request, announcements.queued(request, position)))
            elif others:
                emitted.append(self.announce.about(request, announcements.offered(request, others, expires_at)))
            done = await self.requests.apply(request, change, emitted)
            if done is None:
                continue
            log.info("chat sent back to the company", request_id=request_id, technician_id=me, mode=request["mode"])
            after = await self.technicians.release_slot(me, request_id, claimed_at=request["assigned_at"])
            await self.router.serve_company(request["company_id"])
            if after is not None:
                await self.router.serve_technician(after)
            return done
        raise NotYourChat()

    async def chat_ended(self, event: Envelope[ChatSessionEnded], request: Doc | None) -> None:
        """The chat ended while its request was between technicians (sent back, or handed
        over before the chat heard of it): the request ends too, and any slot it took is freed.
        `request` is the request as just read (costs no command in the usual case)."""
        data = event.data
        for _ in range(MAX_ATTEMPTS):
            if request is None or not transfers.left_behind(request, data.technician_id):
                return
            at = now()
            if request["state"] == State.ASSIGNED:
                done = await self.requests.apply(request, requests.complete(request, at))
            else:
                alerted = list(request.get("offered_to", []))
                withdrawn = announcements.withdrawn(request, alerted, WithdrawalReason.CANCELLED)
                done = await self.requests.apply(
                    request, requests.cancel(request, at), [self.announce.about(request, withdrawn)] if alerted else []
                )
            if done is None:
                request = await self.requests.get(data.request_id)
                continue
            log.info("request ended with its chat, between technicians", request_id=data.request_id)
            if request["state"] == State.ASSIGNED:
                after = await self.technicians.release_slot(
                    request["technician_id"], request["_id"], claimed_at=request["assigned_at"]
                )
                if after is not None:
                    await self.router.serve_technician(after)
            return

"""Inviting a colleague to join a chat: the chat's technician invites another technician of
the company, who accepts (their slot claimed exactly once; they become a guest of the chat)
or declines; an invitation nobody answers lapses (the sweeper). A guest leaves when they
choose, and every guest is let go when the chat ends. The chat stays its technician's
throughout. What it shares with a transfer is in `handover`."""

from collections.abc import Mapping
from typing import Any

from contracts import EventPayload
from contracts.vocabulary import TransferLapseReason
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.domain import invitation as invitations
from dispatch_svc.domain import transfer as transfers
from dispatch_svc.domain.errors import ChatFull, NoInvitationForYou, NotInChat
from dispatch_svc.domain.request import Change
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import MAX_ATTEMPTS, Announcer, Doc
from dispatch_svc.handlers.handover import HandOvers
from dispatch_svc.handlers.routing import Router
from servicekit.auth import Principal
from servicekit.exceptions import DomainError
from servicekit.logging import get_logger

log = get_logger(__name__)


class Invitations(HandOvers):
    what = "invitation"

    def __init__(
        self,
        requests: RequestRepository,
        technicians: TechnicianRepository,
        router: Router,
        announce: Announcer,
        *,
        timeout: float,
        max_technicians: int,
    ) -> None:
        super().__init__(requests, technicians, router, announce, timeout=timeout)
        self.max_technicians = max_technicians

    def pending(self, request: Doc | None) -> Mapping[str, Any] | None:
        return transfers.pending_invitation(request) if request else None

    def lapsed_event(self, request: Doc, reason: TransferLapseReason) -> EventPayload:
        return invitations.lapsed(request, reason)

    def dropped(self, request: Doc) -> Change:
        return invitations.drop(request)

    def not_for_you(self) -> DomainError:
        return NoInvitationForYou()

    async def open_to(self, technician_id: str, company_ids: list[str]) -> list[Doc]:
        return await self.requests.invitations_to(technician_id, company_ids)

    async def invite(self, principal: Principal, request_id: str, to: str, note: str) -> Doc:
        me = principal.subject
        for _ in range(MAX_ATTEMPTS):
            request = await self._request(principal, request_id)
            colleague = await self.technicians.get(to)
            at = now()
            refusal = invitations.refusal(request, me, colleague, at, max_technicians=self.max_technicians)
            if refusal is not None:
                raise refusal
            assert colleague is not None  # refusal() checked it
            myself = await self.technicians.get(me) or {"_id": me, "display_name": principal.name}
            change = invitations.invite(request, myself, colleague, note.strip(), at, at + self.timeout)
            emitted = [
                *self.replaced(request),
                self.announce.about(request, invitations.invited_event(request, change)),
            ]
            done = await self.requests.apply(request, change, emitted)
            if done is not None:
                log.info("colleague invited", request_id=request_id, technician_id=me, to=to)
                return done
        raise NoInvitationForYou()

    async def accept(self, principal: Principal, request_id: str) -> Doc:
        """The colleague joins: their slot is claimed (exactly once, whoever clicks twice),
        then they are added to the request's guests in one write; should that write lose,
        the slot of that very claim is given back."""
        me = principal.subject
        for _ in range(MAX_ATTEMPTS):
            request = await self._request(principal, request_id)
            waiting = transfers.pending_invitation(request)
            if waiting is None and invitations.is_guest(request, me):
                return request  # a second click, after the first one joined
            if waiting is None or waiting["to"] != me or transfers.expired(waiting, now()):
                raise NoInvitationForYou()
            if invitations.technicians_in(request) >= self.max_technicians:
                raise ChatFull(self.max_technicians)
            at = now()
            if not await self.claim(me, request, at):
                continue
            change = invitations.join(request, at)
            event = self.announce.about(request, invitations.joined_event(request, change))
            done = await self.requests.apply(request, change, [event])
            if done is None:
                await self.technicians.release_slot(me, request_id, claimed_at=at)
                continue
            log.info("colleague joined the chat", request_id=request_id, technician_id=me)
            return done
        raise NoInvitationForYou()

    async def leave(self, principal: Principal, request_id: str) -> Doc:
        """A guest leaves: removed from the guests in one write, then the slot of their very
        claim is freed. Read by `_id` alone: a guest may always leave, even one whose access
        to the company was removed meanwhile."""
        me = principal.subject
        for _ in range(MAX_ATTEMPTS):
            request = await self.requests.get(request_id)
            joined = invitations.guest(request, me) if request and invitations.is_guest(request, me) else None
            if request is None or joined is None:
                raise NotInChat()
            change = invitations.leave(request, me)
            event = self.announce.about(request, invitations.left_event(request, change, me))
            done = await self.requests.apply(request, change, [event])
            if done is None:
                continue
            log.info("colleague left the chat", request_id=request_id, technician_id=me)
            # Should this stop here (a crash), the sweeper frees the slot: they are no longer a guest.
            after = await self.technicians.release_slot(me, request_id, claimed_at=joined["joined_at"])
            if after is not None:
                await self.router.serve_technician(after)
            return done
        raise NotInChat()

    async def chat_over(self, request: Doc | None) -> None:
        """The request finished (its chat ended, the customer cancelled): a transfer or
        invitation still pending is dropped (reason `chat_ended`) and every guest is let go,
        in one write; then each guest's slot is freed. `request` is the request as just read
        (or written): nothing to do costs no command. The sweeper calls this too, for what a
        crash left behind."""
        for _ in range(MAX_ATTEMPTS):
            if request is None or not invitations.needs_closing(request):
                return
            events = [self.announce.about(request, e) for e in invitations.closed_events(request)]
            done = await self.requests.apply(request, invitations.close(request), events)
            if done is None:
                request = await self.requests.get(request["_id"])
                continue
            log.info("hand-overs of an ended chat closed", request_id=request["_id"])
            for gone in request.get("guests", []):
                after = await self.technicians.release_slot(
                    gone["technician_id"], request["_id"], claimed_at=gone["joined_at"]
                )
                if after is not None:
                    await self.router.serve_technician(after)
            return

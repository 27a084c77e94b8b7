"""Inviting a colleague to join a chat: the chat's technician invites another technician of
the company, who accepts (their slot claimed exactly once; they become a guest of the chat)
or declines; an invitation nobody answers lapses (the sweeper). A guest leaves when they
choose, and every guest is let go when the chat ends. The chat stays its technician's
throughout.

Access is dispatch's own record of each technician, the token proving only who asks."""

import asyncio
from datetime import timedelta

from contracts.vocabulary import TransferLapseReason
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import SlotClaim, TechnicianRepository
from dispatch_svc.domain import invitation as invitations
from dispatch_svc.domain import transfer as transfers
from dispatch_svc.domain.errors import AtCapacity, ChatFull, NoInvitationForYou, NotAvailableToTake, NotInChat
from dispatch_svc.domain.technician import accessible_companies, routable_for
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import MAX_ATTEMPTS, Announcer, Doc, visible_request
from dispatch_svc.handlers.routing import Router
from servicekit.auth import Principal
from servicekit.logging import get_logger

log = get_logger(__name__)

IN_FLIGHT_PAUSE = 0.05


class Invitations:
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
        self.requests = requests
        self.technicians = technicians
        self.router = router
        self.announce = announce
        self.timeout = timedelta(seconds=timeout)
        self.max_technicians = max_technicians

    async def _companies(self, principal: Principal) -> list[str]:
        return accessible_companies(await self.technicians.get(principal.subject), principal.company_ids)

    async def _request(self, principal: Principal, request_id: str) -> Doc:
        """The live request, if the technician may act for its company now."""
        return await visible_request(self.requests, request_id, await self._companies(principal))

    async def incoming(self, principal: Principal) -> list[Doc]:
        """Invitations colleagues sent the technician that are still open."""
        at = now()
        found = await self.requests.invitations_to(principal.subject, await self._companies(principal))
        return [r for r in found if not transfers.expired(r["invitation"], at)]

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
            emitted = []
            # An expired hand-over the sweeper has not dropped yet: this write replaces it.
            if transfers.pending(request) is not None:
                emitted.append(
                    self.announce.about(request, transfers.lapsed_event(request, TransferLapseReason.EXPIRED))
                )
            if transfers.pending_invitation(request) is not None:
                emitted.append(self.announce.about(request, invitations.lapsed(request, TransferLapseReason.EXPIRED)))
            emitted.append(self.announce.about(request, invitations.invited_event(request, change)))
            done = await self.requests.apply(request, change, emitted)
            if done is not None:
                log.info("colleague invited", request_id=request_id, technician_id=me, to=to)
                return done
        raise NoInvitationForYou()

    async def decline(self, principal: Principal, request_id: str) -> Doc:
        for _ in range(MAX_ATTEMPTS):
            request = await self._request(principal, request_id)
            waiting = transfers.pending_invitation(request)
            if waiting is None or waiting["to"] != principal.subject:
                raise NoInvitationForYou()
            if await self._drop(request, TransferLapseReason.DECLINED) is not None:
                return request
        raise NoInvitationForYou()

    async def lapse(self, request: Doc) -> None:
        """The sweeper: an invitation nobody answered in time ends."""
        waiting = transfers.pending_invitation(request)
        if waiting is not None and transfers.expired(waiting, now()):
            await self._drop(request, TransferLapseReason.EXPIRED)

    async def _drop(self, request: Doc, reason: TransferLapseReason) -> Doc | None:
        event = self.announce.about(request, invitations.lapsed(request, reason))
        done = await self.requests.apply(request, invitations.drop(request), [event])
        if done is not None:
            log.info("invitation lapsed", request_id=request["_id"], reason=reason.value)
        return done

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
            claim = await self.technicians.claim_slot(
                me, request_id, at, company_id=request["company_id"], routable=True
            )
            if claim is SlotClaim.HELD:
                await asyncio.sleep(IN_FLIGHT_PAUSE)  # the same technician's other click is claiming it
                continue
            if claim is SlotClaim.FULL:
                technician = await self.technicians.get(me)
                if technician is not None and not routable_for(technician, request["company_id"]):
                    raise NotAvailableToTake()
                raise AtCapacity()
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

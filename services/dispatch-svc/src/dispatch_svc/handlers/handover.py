"""What a transfer and an invitation have in common — a hand-over: the chat's technician asks
a colleague of the company (with a note), who accepts, declines or lets it lapse (the
sweeper). One hand-over is open at a time per chat; a new one replaces an expired one the
sweeper has not dropped yet. Subclasses say what a hand-over is called, where it is kept on
the request, and what accepting it changes (`Transfers`, `Invitations`).

Access is dispatch's own record of each technician, the token proving only who asks."""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from contracts import Envelope, EventPayload
from contracts.vocabulary import TransferLapseReason
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import SlotClaim, TechnicianRepository
from dispatch_svc.domain import invitation as invitations
from dispatch_svc.domain import transfer as transfers
from dispatch_svc.domain.errors import AtCapacity, NotAvailableToTake
from dispatch_svc.domain.request import Change
from dispatch_svc.domain.technician import accessible_companies, routable_for
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import MAX_ATTEMPTS, Announcer, Doc, visible_request
from dispatch_svc.handlers.routing import Router
from servicekit.auth import Principal
from servicekit.exceptions import DomainError
from servicekit.logging import get_logger

log = get_logger(__name__)

IN_FLIGHT_PAUSE = 0.05


class HandOvers(ABC):
    what = "hand-over"
    """As the log says it: `transfer`, `invitation`."""

    def __init__(
        self,
        requests: RequestRepository,
        technicians: TechnicianRepository,
        router: Router,
        announce: Announcer,
        *,
        timeout: float,
    ) -> None:
        self.requests = requests
        self.technicians = technicians
        self.router = router
        self.announce = announce
        self.timeout = timedelta(seconds=timeout)

    # --- what each kind of hand-over says for itself ---------------------------------------

    @abstractmethod
    def pending(self, request: Doc | None) -> Mapping[str, Any] | None: ...

    @abstractmethod
    def lapsed_event(self, request: Doc, reason: TransferLapseReason) -> EventPayload: ...

    @abstractmethod
    def dropped(self, request: Doc) -> Change: ...

    @abstractmethod
    def not_for_you(self) -> DomainError: ...

    @abstractmethod
    async def open_to(self, technician_id: str, company_ids: list[str]) -> list[Doc]: ...

    # --- shared -----------------------------------------------------------------------------

    async def _companies(self, principal: Principal) -> list[str]:
        return accessible_companies(await self.technicians.get(principal.subject), principal.company_ids)

    async def _request(self, principal: Principal, request_id: str) -> Doc:
        """The live request, if the technician may act for its company now."""
        return await visible_request(self.requests, request_id, await self._companies(principal))

    async def incoming(self, principal: Principal) -> list[Doc]:
        """Hand-overs of this kind colleagues sent the technician that are still open."""
        at = now()
        found = await self.open_to(principal.subject, await self._companies(principal))
        return [r for r in found if (waiting := self.pending(r)) is not None and not transfers.expired(waiting, at)]

    def replaced(self, request: Doc) -> list[Envelope[Any]]:
        """Lapse events for an expired hand-over (of either kind) a new one replaces."""
        emitted: list[Envelope[Any]] = []
        if transfers.pending(request) is not None:
            emitted.append(self.announce.about(request, transfers.lapsed_event(request, TransferLapseReason.EXPIRED)))
        if transfers.pending_invitation(request) is not None:
            emitted.append(self.announce.about(request, invitations.lapsed(request, TransferLapseReason.EXPIRED)))
        return emitted

    async def decline(self, principal: Principal, request_id: str) -> Doc:
        for _ in range(MAX_ATTEMPTS):
            request = await self._request(principal, request_id)
            waiting = self.pending(request)
            if waiting is None or waiting["to"] != principal.subject:
                raise self.not_for_you()
            if await self._drop(request, TransferLapseReason.DECLINED) is not None:
                return request
        raise self.not_for_you()

    async def lapse(self, request: Doc) -> None:
        """The sweeper: a hand-over nobody answered in time ends; the chat stays where it is."""
        waiting = self.pending(request)
        if waiting is not None and transfers.expired(waiting, now()):
            await self._drop(request, TransferLapseReason.EXPIRED)

    async def _drop(self, request: Doc, reason: TransferLapseReason) -> Doc | None:
        event = self.announce.about(request, self.lapsed_event(request, reason))
        done = await self.requests.apply(request, self.dropped(request), [event])
        if done is not None:
            log.info(f"{self.what} lapsed", request_id=request["_id"], reason=reason.value)
        return done

    async def claim(self, me: str, request: Doc, at: Any) -> bool:
        """The accepting colleague's slot for this request, claimed exactly once whoever
        clicks twice: True when claimed, False when their other click holds it (try again)."""
        claim = await self.technicians.claim_slot(
            me, request["_id"], at, company_id=request["company_id"], routable=True
        )
        if claim is SlotClaim.HELD:
            await asyncio.sleep(IN_FLIGHT_PAUSE)
            return False
        if claim is SlotClaim.FULL:
            technician = await self.technicians.get(me)
            if technician is not None and not routable_for(technician, request["company_id"]):
                raise NotAvailableToTake()
            raise AtCapacity()
        return True

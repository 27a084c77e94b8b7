"""Phone mode: connection codes (issued, listed, revoked, retired), and requests that come
in with one. Access follows dispatch's own record of the technician, not the token alone."""

from datetime import timedelta
from typing import Any

from contracts import ConnectionCodeIssued, ConnectionCodeRevoked, new_id
from contracts.vocabulary import ConnectionMode, RejectionReason
from dispatch_svc.adapters.codes import CodeRepository
from dispatch_svc.adapters.portals import PortalRepository
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import SlotClaim, TechnicianRepository
from dispatch_svc.config import Settings
from dispatch_svc.domain import announcements
from dispatch_svc.domain import request as requests
from dispatch_svc.domain.codes import TOO_MANY_WRONG_CODES, classify_code, failure_window, new_code
from dispatch_svc.domain.errors import CodeNotFound, NotPhoneMode, NotYourCompany, TooManyCodes
from dispatch_svc.domain.technician import accessible_companies, may_serve
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import Announcer, Doc, Rejections
from servicekit.auth import Principal
from servicekit.logging import get_logger

log = get_logger(__name__)

DRAWS = 20


class ConnectionCodes:
    def __init__(
        self,
        codes: CodeRepository,
        technicians: TechnicianRepository,
        announce: Announcer,
        settings: Settings,
        portals: PortalRepository | None = None,
    ) -> None:
        self.codes = codes
        self.technicians = technicians
        self.announce = announce
        self.settings = settings
        self.portals = portals

    async def code_companies(self, principal: Principal) -> list[str]:
        """The companies a code works for: those the technician serves whose portal is in
        Phone mode (a Web or Queue portal has nowhere to enter a code)."""
        companies = await self._companies(principal)
        if self.portals is None:
            return companies
        modes = await self.portals.modes_of(companies)
        return [c for c in companies if modes.get(c) == ConnectionMode.PHONE.value]

    async def issue(self, principal: Principal, company_id: str) -> Doc:
        if not principal.can_access_company(company_id):
            raise NotYourCompany()
        if self.portals is not None:
            mode = (await self.portals.modes_of([company_id])).get(company_id)
            # A company without a portal yet is not refused: its Phone portal may be on its way.
            if mode is not None and mode != ConnectionMode.PHONE.value:
                raise NotPhoneMode(mode)
        code_id = new_id("cod")
        limit = self.settings.max_live_codes
        # The claim's filter checks the access too; only a refusal reads (or first creates,
        # from the token) the technician's record, to say why.
        if not await self.technicians.claim_code_slot(principal.subject, code_id, limit, now(), company_id=company_id):
            technician = await self.technicians.ensure(principal.subject, principal.account_id, principal.company_ids)
            if not may_serve(technician, company_id):
                raise NotYourCompany()
            if not await self.technicians.claim_code_slot(
                principal.subject, code_id, limit, now(), company_id=company_id
            ):
                raise TooManyCodes(limit)
        expires_at = now() + timedelta(seconds=self.settings.code_ttl_seconds)
        issued = self.announce.event(
            ConnectionCodeIssued(
                code_id=code_id,
                account_id=principal.account_id,
                company_id=company_id,
                technician_id=principal.subject,
                expires_at=expires_at,
            ),
            correlation_id=code_id,
        )
        document: dict[str, Any] = {
            "_id": code_id,
            "account_id": principal.account_id,
            "company_id": company_id,
            "technician_id": principal.subject,
            "expires_at": expires_at,
            "created_at": now(),
            "used_by": None,
            "revoked": False,
        }
        for _ in range(DRAWS):
            document["code"] = new_code()
            if await self.codes.insert(document, [issued]):
                log.info("connection code issued", code_id=code_id, technician_id=principal.subject)
                return document
        await self.technicians.release_code_slot(principal.subject, code_id)
        raise RuntimeError("no free connection code value found")

    async def _companies(self, principal: Principal) -> list[str]:
        return accessible_companies(await self.technicians.get(principal.subject), principal.company_ids)

    async def live_of(self, principal: Principal) -> list[Doc]:
        return await self.codes.live_of(principal.subject, await self._companies(principal), now())

    async def revoke(self, principal: Principal, code_id: str) -> None:
        companies = await self._companies(principal)
        if not await self._revoke(code_id, principal.subject, principal.account_id, companies):
            raise CodeNotFound(code_id)

    async def _revoke(self, code_id: str, technician_id: str, account_id: str, companies: list[str]) -> bool:
        revoked = self.announce.event(
            ConnectionCodeRevoked(code_id=code_id, account_id=account_id, technician_id=technician_id),
            correlation_id=code_id,
        )
        if await self.codes.revoke(code_id, technician_id, companies, [revoked]) is None:
            return False
        log.info("connection code revoked", code_id=code_id)
        # It connects no one any more: its slot is free now, the sweeper files it later.
        await self.technicians.release_code_slot(technician_id, code_id)
        return True

    async def revoke_lost_access(self, technician_id: str, account_id: str, lost: list[str] | None) -> None:
        """The technician lost companies (`lost`) or every access (None): their codes go."""
        for code in await self.codes.unused_of(technician_id, lost):
            await self._revoke(code["_id"], technician_id, account_id, [code["company_id"]])

    async def retire(self, code: Doc) -> None:
        """Files a code that can no longer connect anyone and frees its technician's code slot."""
        if await self.codes.retire(code, now()):
            await self.technicians.release_code_slot(code["technician_id"], code["_id"])

    async def forget_old_failures(self) -> None:
        window = failure_window(now(), self.settings.code_failure_window_seconds)
        await self.codes.forget_failures_before(window - 1)


class PhoneRouting:
    def __init__(
        self,
        requests: RequestRepository,
        technicians: TechnicianRepository,
        codes: CodeRepository,
        announce: Announcer,
        rejections: Rejections,
        settings: Settings,
    ) -> None:
        self.requests = requests
        self.technicians = technicians
        self.codes = codes
        self.announce = announce
        self.rejections = rejections
        self.settings = settings

    async def route(self, request: Doc) -> None:
        """Connects a request directly to the technician whose code it carries — or rejects it."""
        company_id = request["company_id"]
        window = failure_window(now(), self.settings.code_failure_window_seconds)
        if await self.codes.failures(company_id, window) >= self.settings.code_failures_per_window:
            # While guessing is throttled even a right code is refused, or guessing would still pay.
            await self.rejections.reject(request, RejectionReason.INVALID_CODE, TOO_MANY_WRONG_CODES)
            return
        value = request.get("connection_code") or ""
        live, retired = await self.codes.by_value(value)
        reason = classify_code(live, retired, company_id=company_id, request_id=request["_id"], now=now())
        if reason is None and live is not None and not await self.codes.use(live["_id"], request["_id"], now()):
            live, retired = await self.codes.by_value(value)
            reason = classify_code(live, retired, company_id=company_id, request_id=request["_id"], now=now())
        if reason is not None:
            if reason is RejectionReason.INVALID_CODE:
                await self.codes.count_failure(company_id, window, request["_id"])
            await self.rejections.reject(request, reason)
            return
        # The code is this request's now (possibly already retired by a sweep after a crash).
        code = live or retired
        assert code is not None
        technician_id = code["technician_id"]
        # The slot claim's filter checks the access as well (enabled, the company): the
        # technician is read only when it refuses, to say why. Used, the code connects no one
        # else: the same write frees its code slot (the sweeper files the code later).
        at = now()
        claim = await self.technicians.claim_slot(
            technician_id, request["_id"], at, company_id=company_id, routable=False, code_id=code["_id"]
        )
        if claim is SlotClaim.HELD:
            return  # a crashed attempt holds the slot; the sweeper frees it and routes again
        if claim is SlotClaim.FULL:
            if not may_serve(await self.technicians.get(technician_id), company_id):
                # Issued while the technician still had the company: it connects no one now.
                await self.rejections.reject(request, RejectionReason.INVALID_CODE)
                return
            # The code stays usable: the customer can try again once the technician has room.
            await self.codes.give_back(code["_id"], request["_id"])
            await self.rejections.reject(request, RejectionReason.TECHNICIAN_UNAVAILABLE)
            return
        change = requests.assign(request, technician_id, at, acknowledged=True, code_id=code["_id"])
        event = self.announce.about(request, announcements.assigned(request, change.set, alert=False))
        if await self.requests.apply(request, change, [event]) is None:
            await self.technicians.release_slot(technician_id, request["_id"], claimed_at=at)
            return
        log.info("request connected by code", request_id=request["_id"], technician_id=technician_id)

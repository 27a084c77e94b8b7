"""chat-svc's record of technicians: kept current from `TechnicianUpdated`, and enforced on
open sockets at once — on every replica — when an admin takes a company (or the whole
account) away.

Each replica keeps the records it read for `access_cache_seconds`, so a chatting
technician's messages do not each re-read the store. The replica that consumes the update
tells every replica (itself included) through a live frame: they refresh their copy and
close the sockets that lost access. Live frames are at most once; if one is lost, a copy is
at most `access_cache_seconds` old before the store is read again.
"""

import time
from typing import Any

from chat_svc.adapters.technicians import TechnicianRepository
from chat_svc.domain.access import still_allowed
from chat_svc.domain.closing import ACCESS_REVOKED, CLOSE_ACCESS_REVOKED
from chat_svc.domain.technicians import TechnicianAccess
from chat_svc.handlers.ports import LiveSockets
from contracts import Envelope, TechnicianUpdated
from servicekit.auth import Principal, Role
from servicekit.logging import get_logger

log = get_logger(__name__)

CACHE_LIMIT = 10_000


def to_frame(record: TechnicianAccess) -> dict[str, Any]:
    return {
        "technician_id": record.technician_id,
        "account_id": record.account_id,
        "company_ids": sorted(record.company_ids),
        "enabled": record.enabled,
        "revision": record.revision,
    }


def from_frame(frame: dict[str, Any]) -> TechnicianAccess:
    return TechnicianAccess(
        technician_id=frame["technician_id"],
        account_id=frame["account_id"],
        company_ids=frozenset(frame["company_ids"]),
        enabled=frame["enabled"],
        revision=frame["revision"],
    )


class TechnicianRecords:
    def __init__(self, technicians: TechnicianRepository, hub: LiveSockets, *, cache_seconds: float = 5.0) -> None:
        self.technicians = technicians
        self.hub = hub
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[TechnicianAccess, float]] = {}

    async def record(self, technician_id: str) -> TechnicianAccess | None:
        """The stored record, read now."""
        return await self.technicians.get(technician_id)

    async def current(self, technician_id: str) -> TechnicianAccess | None:
        """The record, from this replica's copy while it is fresh."""
        cached = self._cache.get(technician_id)
        if cached is not None and time.monotonic() - cached[1] < self.cache_seconds:
            return cached[0]
        record = await self.technicians.get(technician_id)
        if record is not None:  # an unknown technician may be announced any moment: not kept
            self._keep(record)
        return record

    async def of(self, principal: Principal) -> TechnicianAccess | None:
        """The record deciding what a technician may do now (None for other roles)."""
        return await self.current(principal.subject) if principal.role is Role.TECHNICIAN else None

    def _keep(self, record: TechnicianAccess) -> None:
        cached = self._cache.get(record.technician_id)
        if cached is not None and cached[0].revision > record.revision:
            return
        if len(self._cache) >= CACHE_LIMIT and record.technician_id not in self._cache:
            self._cache.pop(next(iter(self._cache)))
        self._cache[record.technician_id] = (record, time.monotonic())

    async def on_updated(self, event: Envelope[TechnicianUpdated]) -> None:
        data = event.data
        if not await self.technicians.save(data):
            log.info("stale or repeated technician update ignored", technician_id=data.technician_id)
            return
        # Whatever the stored revision is now (a newer one may have landed meanwhile) decides.
        record = await self.technicians.get(data.technician_id)
        if record is None:
            return
        self._keep(record)
        await self.hub.announce_access(to_frame(record))

    async def apply(self, frame: dict[str, Any]) -> None:
        """An access change announced by any replica: refresh the copy, close what lost access."""
        record = from_frame(frame)
        self._keep(record)
        cached = self._cache.get(record.technician_id)
        deciding = cached[0] if cached is not None else record
        closed = self.hub.close_technician(
            record.technician_id,
            lambda account_id, company_id: still_allowed(deciding, account_id, company_id),
            CLOSE_ACCESS_REVOKED,
            ACCESS_REVOKED,
        )
        if closed:
            log.info("chat sockets closed: access revoked", technician_id=record.technician_id, sockets=closed)

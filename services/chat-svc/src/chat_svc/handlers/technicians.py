"""chat-svc's record of technicians: kept current from `TechnicianUpdated`, and enforced on
open sockets at once when an admin takes a company (or the whole account) away."""

from chat_svc.adapters.technicians import TechnicianRepository
from chat_svc.domain.access import still_allowed
from chat_svc.domain.closing import ACCESS_REVOKED, CLOSE_ACCESS_REVOKED
from chat_svc.domain.technicians import TechnicianAccess
from chat_svc.handlers.ports import LiveSockets
from contracts import Envelope, TechnicianUpdated
from servicekit.auth import Principal, Role
from servicekit.logging import get_logger

log = get_logger(__name__)


class TechnicianRecords:
    def __init__(self, technicians: TechnicianRepository, hub: LiveSockets) -> None:
        self.technicians = technicians
        self.hub = hub

    async def record(self, technician_id: str) -> TechnicianAccess | None:
        return await self.technicians.get(technician_id)

    async def of(self, principal: Principal) -> TechnicianAccess | None:
        """The record deciding what a technician may do now (None for other roles)."""
        return await self.technicians.get(principal.subject) if principal.role is Role.TECHNICIAN else None

    async def on_updated(self, event: Envelope[TechnicianUpdated]) -> None:
        data = event.data
        if not await self.technicians.save(data):
            log.info("stale or repeated technician update ignored", technician_id=data.technician_id)
            return
        # Whatever the stored revision is now (a newer one may have landed meanwhile) decides.
        record = await self.technicians.get(data.technician_id)
        closed = self.hub.close_technician(
            data.technician_id,
            lambda account_id, company_id: still_allowed(record, account_id, company_id),
            CLOSE_ACCESS_REVOKED,
            ACCESS_REVOKED,
        )
        if closed:
            log.info("chat sockets closed: access revoked", technician_id=data.technician_id, sockets=closed)

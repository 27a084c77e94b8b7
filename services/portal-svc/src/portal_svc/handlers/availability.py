"""The availability read model: who customers may pick at a Web portal, per company.

Fed by `TechnicianUpdated` (company list, capacity, name, enabled; by `revision`) and by
presence-svc (available or not, and the state the supervisor dashboard shows; by
`sequence`), each source writing only its own fields
(see `adapters.availability`). Seeded at start-up from our own technician records and from
presence-svc's snapshot, asked until it answers.
"""

from datetime import UTC, datetime

from contracts import TechnicianAvailable, TechnicianUnavailable, TechnicianUpdated
from portal_svc.adapters.availability import AvailabilityRepository
from portal_svc.adapters.presence import PresenceClient, PresenceUnavailable
from portal_svc.adapters.users import UserRepository
from portal_svc.domain.dashboard_live import UNAVAILABLE_AS, TechnicianState
from servicekit.logging import get_logger

log = get_logger(__name__)


class AvailabilityReadModel:
    def __init__(self, availability: AvailabilityRepository, users: UserRepository, presence: PresenceClient) -> None:
        self._availability = availability
        self._users = users
        self._presence = presence
        self.snapshot_loaded = False
        """Whether presence-svc's snapshot has been absorbed (it is asked for until then)."""

    async def technician_updated(self, data: TechnicianUpdated) -> bool:
        applied = await self._availability.record_technician(
            data.technician_id,
            data.revision,
            account_id=data.account_id,
            display_name=data.display_name,
            company_ids=data.company_ids,
            capacity=data.capacity,
            enabled=data.enabled,
        )
        if not applied:
            log.info("stale technician record ignored", technician_id=data.technician_id, revision=data.revision)
        return applied

    async def technician_available(self, data: TechnicianAvailable) -> bool:
        state = TechnicianState.AVAILABLE
        return await self._presence_changed(
            data.technician_id, data.account_id, data.sequence, state, data.display_name
        )

    async def technician_unavailable(self, data: TechnicianUnavailable) -> bool:
        state = UNAVAILABLE_AS[data.reason]
        return await self._presence_changed(data.technician_id, data.account_id, data.sequence, state, "")

    async def _presence_changed(
        self, technician_id: str, account_id: str, sequence: int, state: TechnicianState, display_name: str
    ) -> bool:
        applied = await self._availability.record_presence(
            technician_id,
            sequence,
            account_id=account_id,
            available=state is TechnicianState.AVAILABLE,
            state=state.value,
            display_name=display_name,
            at=datetime.now(UTC),
        )
        if not applied:
            log.info("stale availability ignored", technician_id=technician_id, sequence=sequence)
        return applied

    async def reconcile_technicians(self) -> int:
        """Start-up step: bring every technician's record into the read model (revision-guarded,
        so a newer event already absorbed wins). Covers events published while this service's
        queue did not exist yet, and documents written by an older version."""
        technicians = await self._users.technicians()
        for doc in technicians:
            await self._availability.record_technician(
                doc["_id"],
                doc["revision"],
                account_id=doc["account_id"],
                display_name=doc["name"],
                company_ids=doc["company_ids"],
                capacity=doc["capacity"],
                enabled=doc["enabled"],
            )
        return len(technicians)

    async def load_snapshot(self) -> int:
        """Seed presence's side with who is available now; events keep it current afterwards."""
        asked_at = datetime.now(UTC)
        technicians = await self._presence.snapshot()
        for technician in technicians:
            await self.technician_available(technician)
        await self._availability.mark_missing_unavailable([t.technician_id for t in technicians], asked_at)
        return len(technicians)

    async def snapshot_tick(self) -> None:
        """Periodic until it succeeds once, then nothing: start-up never waits for presence-svc.
        (Any other failure, a bug, is logged with its traceback by the periodic loop.)"""
        if self.snapshot_loaded:
            return
        try:
            count = await self.load_snapshot()
        except PresenceUnavailable as error:
            log.warning("presence snapshot failed; retrying", error=str(error))
            return
        self.snapshot_loaded = True
        log.info("availability snapshot loaded", technicians=count)

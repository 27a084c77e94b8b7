"""What a technician's record change (TechnicianUpdated) means here: availability, alerts and
open help centers follow the new access at once."""

from contracts import TechnicianUpdated
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.domain.status_history import Actor
from presence_svc.handlers.alerts import AlertHandlers
from presence_svc.handlers.presence import PresenceHandlers


class TechnicianHandlers:
    def __init__(self, technicians: TechnicianRepository, presence: PresenceHandlers, alerts: AlertHandlers) -> None:
        self.technicians = technicians
        self.presence = presence
        self.alerts = alerts

    async def updated(self, event: TechnicianUpdated, correlation_id: str) -> None:
        if not await self.technicians.save_profile(event):
            return  # stale or repeated
        await self.presence.reconcile(event.technician_id, correlation_id, actor=Actor.ADMIN)
        await self.alerts.withdraw_invisible(event.technician_id)
        if event.enabled:
            await self.presence.announce(event.technician_id)
        else:
            await self.presence.revoke(event.technician_id)

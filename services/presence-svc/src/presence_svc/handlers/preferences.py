"""Notification preference use cases (optimistic: re-read and retry if a tab raced us)."""

from collections.abc import Callable

from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.domain.errors import UnknownTechnician
from presence_svc.domain.preferences import Preferences
from servicekit.errors import Conflict

MAX_ATTEMPTS = 5


class PreferenceHandlers:
    def __init__(self, technicians: TechnicianRepository) -> None:
        self.technicians = technicians

    async def get(self, technician_id: str) -> Preferences:
        stored = await self.technicians.preferences(technician_id)
        if stored is None:
            raise UnknownTechnician()
        return stored[0]

    async def change(self, technician_id: str, change: Callable[[Preferences], Preferences]) -> Preferences:
        for _ in range(MAX_ATTEMPTS):
            stored = await self.technicians.preferences(technician_id)
            if stored is None:
                raise UnknownTechnician()
            current, version = stored
            updated = change(current)
            if updated == current:
                return current
            if await self.technicians.save_preferences(technician_id, updated, expected_version=version):
                return updated
        raise Conflict("preferences are being changed elsewhere right now; retry", code="busy")

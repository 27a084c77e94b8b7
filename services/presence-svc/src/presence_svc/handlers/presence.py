"""Availability use cases: chosen status, connections, grace, and the events they cause.

Every path ends in `reconcile`, which compares what routing was last told with what is
true now and publishes at most one event for the difference. Per-technician locks keep
this process's own calls in order; the conditional write on `sequence` keeps it exactly
once even against a racing writer.
"""

import asyncio
from collections import defaultdict
from dataclasses import dataclass

from contracts import PortalConfigured, TechnicianAvailable, TechnicianUnavailable, TechnicianUpdated
from servicekit.logging import get_logger
from servicekit.runtime import Runtime

from presence_svc.adapters.connections import ConnectionRegistry
from presence_svc.adapters.portals import PortalRepository
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.domain.availability import (
    BecameAvailable,
    ChosenStatus,
    Technician,
    next_change,
)
from presence_svc.domain.errors import NoPortal, TechnicianDisabled, UnknownTechnician

log = get_logger(__name__)

MAX_ATTEMPTS = 5
POLICY_VIOLATION = 1008


@dataclass(frozen=True)
class PresenceView:
    technician: Technician
    status_menu: bool
    connections: int

    def as_dict(self) -> dict[str, object]:
        published = self.technician.published
        return {
            "technician_id": self.technician.technician_id,
            "display_name": self.technician.display_name,
            "status": self.technician.chosen.value,
            "available": published is not None,
            "company_ids": list(published.company_ids) if published else [],
            "status_menu": self.status_menu,
            "connections": self.connections,
        }


class PresenceHandlers:
    def __init__(
        self,
        runtime: Runtime,
        technicians: TechnicianRepository,
        portals: PortalRepository,
        grace_seconds: float,
    ) -> None:
        self.runtime = runtime
        self.technicians = technicians
        self.portals = portals
        self.connections = ConnectionRegistry(
            grace_seconds=grace_seconds, on_grace_expired=self._grace_expired
        )
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # -- queries -------------------------------------------------------------------------

    async def known(self, technician_id: str, account_id: str) -> Technician:
        """The technician behind a token; unknown ids and other accounts look the same."""
        technician = await self.technicians.get(technician_id)
        if technician is None or technician.account_id != account_id:
            raise UnknownTechnician()
        if not technician.enabled:
            raise TechnicianDisabled()
        return technician

    async def view(self, technician: Technician) -> PresenceView:
        portals = await self.portals.companies_with_portal(technician.company_ids)
        return PresenceView(
            technician,
            status_menu=technician.has_status_menu(portals),
            connections=self.connections.count(technician.technician_id),
        )

    async def me(self, technician_id: str, account_id: str) -> PresenceView:
        return await self.view(await self.known(technician_id, account_id))

    # -- commands ------------------------------------------------------------------------

    async def choose(
        self, technician_id: str, account_id: str, status: ChosenStatus, correlation_id: str
    ) -> PresenceView:
        technician = await self.known(technician_id, account_id)
        if not (await self.view(technician)).status_menu:
            raise NoPortal()
        async with self._locks[technician_id]:
            if technician.chosen is not status:
                await self.technicians.set_chosen(technician_id, status)
            await self._reconcile_locked(technician_id, correlation_id)
        view = await self.me(technician_id, account_id)
        await self.connections.send(technician_id, status_frame(view))
        return view

    async def technician_updated(self, event: TechnicianUpdated, correlation_id: str) -> None:
        if await self.technicians.save_profile(event):
            await self.reconcile(event.technician_id, correlation_id)
            if event.enabled:
                await self._announce(event.technician_id)
            else:
                await self.connections.disconnect(
                    event.technician_id, code=POLICY_VIOLATION, reason="removed from the account"
                )

    async def portal_configured(self, event: PortalConfigured, correlation_id: str) -> None:
        if await self.portals.save(event):
            for technician_id in await self.technicians.ids_with_company(event.company_id):
                await self.reconcile(technician_id, correlation_id)
                await self._announce(technician_id)

    async def connected(self, technician_id: str, correlation_id: str) -> None:
        """A connection was just added to the registry."""
        await self.reconcile(technician_id, correlation_id)

    async def recover(self) -> None:
        """After a restart nobody is connected yet: technicians routing still counts as
        available get the grace period to reconnect, then become unavailable."""
        for technician_id in await self.technicians.ids_published_available():
            self.connections.start_grace(technician_id)
            await self.reconcile(technician_id, f"recover-{technician_id}")

    async def _grace_expired(self, technician_id: str) -> None:
        await self.reconcile(technician_id, f"disconnected-{technician_id}")

    async def reconcile(self, technician_id: str, correlation_id: str) -> None:
        async with self._locks[technician_id]:
            await self._reconcile_locked(technician_id, correlation_id)

    async def _reconcile_locked(self, technician_id: str, correlation_id: str) -> None:
        for _ in range(MAX_ATTEMPTS):
            technician = await self.technicians.get(technician_id)
            if technician is None:
                return
            portals = await self.portals.companies_with_portal(technician.company_ids)
            change = next_change(
                technician,
                live=self.connections.live(technician_id),
                active_portal_companies={c for c, active in portals.items() if active},
            )
            if change is None:
                return
            if isinstance(change, BecameAvailable):
                payload = TechnicianAvailable(
                    technician_id=technician_id,
                    account_id=technician.account_id,
                    display_name=change.routing.display_name,
                    company_ids=list(change.routing.company_ids),
                    capacity=change.routing.capacity,
                    sequence=change.sequence,
                )
                published, snapshot = change.routing, payload.model_dump(mode="json")
            else:
                payload = TechnicianUnavailable(
                    technician_id=technician_id,
                    account_id=technician.account_id,
                    company_ids=list(change.company_ids),
                    reason=change.reason,
                    sequence=change.sequence,
                )
                published, snapshot = None, None
            events = [self.runtime.event(payload, correlation_id=correlation_id)]
            if await self.technicians.record_change(
                technician,
                published=published,
                available_payload=snapshot,
                sequence=change.sequence,
                events=events,
            ):
                await self.runtime.outbox.flush(self.technicians.collection, technician_id, events)
                log.info(
                    "availability changed",
                    technician_id=technician_id,
                    event_type=payload.event_type,
                    sequence=change.sequence,
                )
                return
        log.warning("availability not reconciled: kept losing races", technician_id=technician_id)

    async def _announce(self, technician_id: str) -> None:
        """Tell the technician's open help centers what changed for them."""
        if not self.connections.connected(technician_id):
            return
        technician = await self.technicians.get(technician_id)
        if technician is not None:
            await self.connections.send(technician_id, status_frame(await self.view(technician)))


def status_frame(view: PresenceView) -> dict[str, object]:
    return {"type": "status", **view.as_dict()}


def hello_frame(view: PresenceView, preferences: dict[str, object]) -> dict[str, object]:
    return {"type": "hello", **view.as_dict(), "preferences": preferences}

"""Availability use cases: chosen status, connections, grace, and the events they cause.

Every path ends in `reconcile`, which compares what routing was last told with what is
true now and publishes at most one event for the difference. Per-technician locks keep
this process's own calls in order; the conditional write on `sequence` keeps it exactly
once even against a racing writer.
"""

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts import Envelope, EventPayload, PortalConfigured, TechnicianAvailable, TechnicianUnavailable
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
from servicekit.logging import get_logger

log = get_logger(__name__)

MAX_ATTEMPTS = 5
ACCESS_REVOKED_CLOSE = 4403
"""Close code of a help center whose technician was removed or disabled (not a bad token:
the client should stop reconnecting and say why)."""

MakeEvent = Callable[..., Envelope[Any]]
"""`runtime.event`: wraps a payload in an envelope of this service (keyword `correlation_id`)."""


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
        technicians: TechnicianRepository,
        portals: PortalRepository,
        connections: ConnectionRegistry,
        make_event: MakeEvent,
    ) -> None:
        self.technicians = technicians
        self.portals = portals
        self.connections = connections
        self._event = make_event
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

    async def snapshot(self, account_id: str | None) -> list[dict[str, Any]]:
        """The TechnicianAvailable payloads of everyone available (of one account, or all)."""
        return await self.technicians.available_payloads(account_id)

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

    async def portal_configured(self, event: PortalConfigured, correlation_id: str) -> None:
        if await self.portals.save(event):
            for technician_id in await self.technicians.ids_with_company(event.company_id):
                await self.reconcile(technician_id, correlation_id)
                await self.announce(technician_id)

    async def connected(self, technician_id: str, correlation_id: str) -> None:
        """A connection was just added to the registry."""
        await self.reconcile(technician_id, correlation_id)

    async def recover(self) -> None:
        """After a restart nobody is connected yet: technicians routing still counts as
        available get the grace period to reconnect, then become unavailable."""
        for technician_id in await self.technicians.ids_published_available():
            self.connections.start_grace(technician_id)
            await self.reconcile(technician_id, f"recover-{technician_id}")

    async def expire_graces(self) -> None:
        """Periodic: technicians whose grace period ran out are reconciled (→ unavailable)."""
        for technician_id in self.connections.expired():
            await self.reconcile(technician_id, f"disconnected-{technician_id}")

    async def revoke(self, technician_id: str) -> None:
        """Close the help centers of a technician who was removed or disabled."""
        await self.connections.disconnect(technician_id, code=ACCESS_REVOKED_CLOSE, reason="access revoked")

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
            payload: EventPayload
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
            if await self.technicians.record_change(
                technician,
                published=published,
                available_payload=snapshot,
                sequence=change.sequence,
                events=[self._event(payload, correlation_id=correlation_id)],
            ):
                log.info(
                    "availability changed",
                    technician_id=technician_id,
                    event_type=payload.event_type,
                    sequence=change.sequence,
                )
                return
        log.warning("availability not reconciled: kept losing races", technician_id=technician_id)

    async def announce(self, technician_id: str) -> None:
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

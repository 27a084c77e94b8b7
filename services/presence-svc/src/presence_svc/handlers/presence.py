"""Availability use cases: chosen status, connections, grace, and the events they cause.

presence-svc runs on any number of replicas. Whether a technician is connected is recorded
on their document as one lease per replica (`leases.<replica>: {until, sockets}`): the
replica holding their sockets renews it (one write per replica every lease/3 seconds) and
ends it when their last socket there closes. A technician is live while some lease has
not ended more than the grace period ago, so a replica that dies (nothing cleaned up)
loses its technicians after lease + grace, and a technician who reconnects to another
replica meanwhile never flaps.

Every path ends in `reconcile`, which compares what routing was last told with what is
true now and publishes at most one event for the difference. Per-technician locks keep
this replica's own calls in order; the conditional write on `sequence` keeps it exactly
once across replicas (the loser re-reads and finds nothing left to do).
"""

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from contracts import Envelope, EventPayload, PortalConfigured, TechnicianAvailable, TechnicianUnavailable
from presence_svc.adapters.connections import ConnectionRegistry
from presence_svc.adapters.portals import PortalRepository
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.domain.availability import (
    BecameAvailable,
    ChosenStatus,
    Technician,
    next_change,
    shown_state,
)
from presence_svc.domain.errors import NoPortal, TechnicianDisabled, UnknownTechnician
from presence_svc.domain.preferences import Preferences
from presence_svc.domain.status_history import Actor
from presence_svc.handlers.status_log import StatusLog
from servicekit.logging import get_logger

log = get_logger(__name__)

MAX_ATTEMPTS = 5
ACCESS_REVOKED_CLOSE = 4403
"""Close code of a help center whose technician was removed or disabled (not a bad token:
the client should stop reconnecting and say why)."""

MakeEvent = Callable[..., Envelope[Any]]
"""`runtime.event`: wraps a payload in an envelope of this service (keyword `correlation_id`)."""


class Channel(Protocol):
    """Frames to a technician's help centers on every replica (`adapters.live`)."""

    async def send(self, technician_id: str, frame: dict[str, Any]) -> None: ...

    async def close(self, technician_id: str, *, code: int, reason: str) -> None: ...


@dataclass(frozen=True)
class Leases:
    """This replica's part in the connection leases."""

    replica: str
    """Field-safe key of this replica (no dots)."""
    lease: timedelta
    grace: timedelta
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def replica_key(replica: str) -> str:
    """A replica id usable as a document field name (host names may carry dots)."""
    return replica.replace(".", "_").replace("$", "_")


@dataclass(frozen=True)
class PresenceView:
    technician: Technician
    status_menu: bool
    connections: int
    """Open help centers, on every replica."""
    shown: str = "available"
    """`available`, or why not (an UnavailableReason value)."""

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
            "reason": None if self.shown == "available" else self.shown,
            # ISO text: this dict is also a WebSocket frame (JSON).
            "since": self.technician.since.isoformat() if self.technician.since else None,
            "chats_open": self.technician.chats_open,
        }


class PresenceHandlers:
    def __init__(
        self,
        technicians: TechnicianRepository,
        portals: PortalRepository,
        connections: ConnectionRegistry,
        channel: Channel,
        make_event: MakeEvent,
        leases: Leases,
        status_log: StatusLog,
    ) -> None:
        self.technicians = technicians
        self.portals = portals
        self.connections = connections
        """The sockets this replica holds."""
        self.channel = channel
        self.leases = leases
        self._event = make_event
        self.status_log = status_log
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._renewal_failed = False

    # -- queries -------------------------------------------------------------------------

    async def known(self, technician_id: str, account_id: str) -> Technician:
        """The technician behind a token; unknown ids and other accounts look the same."""
        technician = await self.technicians.get(technician_id)
        if technician is None or technician.account_id != account_id:
            raise UnknownTechnician()
        if not technician.enabled:
            raise TechnicianDisabled()
        return technician

    async def view(self, technician: Technician, portals: dict[str, bool] | None = None) -> PresenceView:
        if portals is None:
            portals = await self.portals.companies_with_portal(technician.company_ids)
        return PresenceView(
            technician,
            status_menu=technician.has_status_menu(portals),
            connections=technician.sockets(self.leases.clock()),
            shown=self.shown(technician, portals),
        )

    def shown(self, technician: Technician, portals: dict[str, bool]) -> str:
        return shown_state(
            technician,
            live=technician.live(self.leases.clock(), self.leases.grace),
            active_portal_companies={c for c, active in portals.items() if active},
        )

    async def roster(self, account_id: str) -> list[PresenceView]:
        """Every technician of the account with their shown state (admins' live roster)."""
        technicians = await self.technicians.of_account(account_id)
        companies = {c for t in technicians for c in t.company_ids}
        portals = await self.portals.companies_with_portal(companies)
        views = [await self.view(t, {c: portals[c] for c in t.company_ids if c in portals}) for t in technicians]
        return sorted(views, key=lambda v: (v.technician.display_name.casefold(), v.technician.technician_id))

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
            if technician.chosen is not status or status is ChosenStatus.AVAILABLE:
                # Choosing Available (again) also ends a missed-requests stop and its streak.
                await self.technicians.set_chosen(technician_id, status)
            await self._reconcile_locked(technician_id, correlation_id, actor=Actor.TECHNICIAN, actor_id=technician_id)
        view = await self.me(technician_id, account_id)
        await self.channel.send(technician_id, status_frame(view))
        return view

    async def portal_configured(self, event: PortalConfigured, correlation_id: str) -> None:
        if await self.portals.save(event):
            for technician_id in await self.technicians.ids_with_company(event.company_id):
                await self.reconcile(technician_id, correlation_id, actor=Actor.ADMIN)
                await self.announce(technician_id)

    async def attach(self, technician_id: str, correlation_id: str) -> tuple[PresenceView, Preferences]:
        """A socket of the technician opened here: take a lease, then reconcile (→ available
        if they chose so). Returns the view and preferences for the hello frame."""
        now = self.leases.clock()
        found = await self.technicians.attach(technician_id, self.leases.replica, now + self.leases.lease)
        if found is None:
            raise UnknownTechnician()
        if stale := found[0].stale_leases(now, self.leases.grace):
            # Replicas gone long ago (restarts): forgotten, so the map stays small.
            await self.technicians.forget_leases(technician_id, stale)
        async with self._locks[technician_id]:
            technician, portals = await self._reconcile_locked(technician_id, correlation_id, found[0])
        if technician is None:
            raise UnknownTechnician()
        if not technician.enabled:
            raise TechnicianDisabled()
        return await self.view(technician, portals), found[1]

    async def detach(self, technician_id: str, *, last: bool) -> None:
        """A socket closed here; its last one starts the grace period (ended by the tick)."""
        try:
            await self.technicians.detach(technician_id, self.leases.replica, now=self.leases.clock(), last=last)
        except Exception as error:  # the store is away: the lease runs out by itself
            log.warning("lease not released", technician_id=technician_id, error=str(error))

    async def renew_leases(self) -> None:
        """Periodic (every lease/3): vouch again for every technician with a socket here."""
        technician_ids = self.connections.technician_ids()
        if not technician_ids:
            return
        try:
            await self.technicians.renew(technician_ids, self.leases.replica, self.leases.clock() + self.leases.lease)
        except Exception:
            self._renewal_failed = True
            raise
        if self._renewal_failed:
            # Our leases may have run out meanwhile and another replica made these
            # technicians unavailable: bring routing up to date again.
            self._renewal_failed = False
            for technician_id in technician_ids:
                await self.reconcile(technician_id, f"renewed-{technician_id}")

    async def expire_graces(self) -> None:
        """Periodic, on every replica: technicians routing counts as available whose leases
        all ended more than the grace period ago become unavailable (exactly once overall:
        the write is conditional on the sequence)."""
        now = self.leases.clock()
        for technician in await self.technicians.published_available():
            if technician.live(now, self.leases.grace):
                continue
            async with self._locks[technician.technician_id]:
                await self._reconcile_locked(
                    technician.technician_id, f"disconnected-{technician.technician_id}", technician
                )
            if stale := technician.stale_leases(now, self.leases.grace):
                await self.technicians.forget_leases(technician.technician_id, stale)

    async def revoke(self, technician_id: str) -> None:
        """Close the help centers of a technician who was removed or disabled, on every replica."""
        await self.channel.close(technician_id, code=ACCESS_REVOKED_CLOSE, reason="access revoked")

    async def reconcile(
        self, technician_id: str, correlation_id: str, *, actor: Actor = Actor.SYSTEM, actor_id: str | None = None
    ) -> None:
        async with self._locks[technician_id]:
            await self._reconcile_locked(technician_id, correlation_id, actor=actor, actor_id=actor_id)

    async def _reconcile_locked(
        self,
        technician_id: str,
        correlation_id: str,
        known: Technician | None = None,
        *,
        actor: Actor = Actor.SYSTEM,
        actor_id: str | None = None,
    ) -> tuple[Technician | None, dict[str, bool]]:
        """Bring routing up to date, then record the shown state if it changed (with who caused it)."""
        technician, portals = await self._route_locked(technician_id, correlation_id, known)
        if technician is not None:
            await self.status_log.record(technician, self.shown(technician, portals), actor, actor_id)
        return technician, portals

    async def _route_locked(
        self, technician_id: str, correlation_id: str, known: Technician | None = None
    ) -> tuple[Technician | None, dict[str, bool]]:
        """Bring routing up to date; `known` is a fresh read of the technician, if the caller
        has one. Returns the technician as stored afterwards, and their portals."""
        technician, portals = known, {}
        for _ in range(MAX_ATTEMPTS):
            if technician is None:
                technician = await self.technicians.get(technician_id)
            if technician is None:
                return None, {}
            portals = await self.portals.companies_with_portal(technician.company_ids)
            change = next_change(
                technician,
                live=technician.live(self.leases.clock(), self.leases.grace),
                active_portal_companies={c for c, active in portals.items() if active},
            )
            if change is None:
                return technician, portals
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
            after = await self.technicians.record_change(
                technician,
                published=published,
                available_payload=snapshot,
                sequence=change.sequence,
                events=[self._event(payload, correlation_id=correlation_id)],
            )
            if after is not None:
                log.info(
                    "availability changed",
                    technician_id=technician_id,
                    event_type=payload.event_type,
                    sequence=change.sequence,
                )
                return after, portals
            technician = None  # someone else changed it: read again
        log.warning("availability not reconciled: kept losing races", technician_id=technician_id)
        return technician, portals

    async def announce(self, technician_id: str) -> None:
        """Tell the technician's open help centers (on any replica) what changed for them."""
        technician = await self.technicians.get(technician_id)
        if technician is not None and technician.connected(self.leases.clock()):
            await self.channel.send(technician_id, status_frame(await self.view(technician)))


def status_frame(view: PresenceView) -> dict[str, object]:
    return {"type": "status", **view.as_dict()}


def hello_frame(view: PresenceView, preferences: dict[str, object]) -> dict[str, object]:
    return {"type": "hello", **view.as_dict(), "preferences": preferences}

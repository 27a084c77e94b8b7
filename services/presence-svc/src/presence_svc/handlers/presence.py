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

from contracts import Envelope, PortalConfigured, TechnicianAvailable, TechnicianUnavailable
from presence_svc.adapters.connections import ConnectionRegistry
from presence_svc.adapters.portals import PortalRepository
from presence_svc.adapters.technicians import TechnicianRepository, Told
from presence_svc.domain.availability import (
    BecameAvailable,
    Change,
    ChosenStatus,
    Technician,
    choosing,
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
        self._next_scan = datetime.min.replace(tzinfo=UTC)
        """When a grace period this replica knows of may end (see `expire_graces_when_due`)."""

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
        portals = await self.portals.companies_with_portal(technician.company_ids)
        if not technician.has_status_menu(portals):
            raise NoPortal()
        async with self._locks[technician_id]:
            # Choosing Available (again) also ends a missed-requests stop and its streak. The
            # choice rides in the reconciliation's one write; the technician and portals just
            # read are as fresh as any (that write is conditional on them).
            change = technician.chosen is not status or status is ChosenStatus.AVAILABLE
            after, portals = await self._reconcile_locked(
                technician_id,
                correlation_id,
                technician,
                portals,
                chosen=status if change else None,
                actor=Actor.TECHNICIAN,
                actor_id=technician_id,
            )
        if after is None:
            raise UnknownTechnician()
        view = await self.view(after, portals)
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
            after = await self.technicians.detach(
                technician_id, self.leases.replica, now=self.leases.clock(), last=last
            )
        except Exception as error:  # the store is away: the lease runs out by itself
            log.warning("lease not released", technician_id=technician_id, error=str(error))
            return
        if after is not None:
            self._expect(after)

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

    async def expire_graces_when_due(self) -> None:
        """Periodic (often): `expire_graces`, once a grace period may have ended.

        Each scan notes when the earliest grace period of those it read can end; leases
        only move that later (renewals, reconnections), except on the replica that ends one
        (a last socket closing here) or makes someone available (a reconciliation here),
        which notes it too. What no living replica noted — someone made available by a
        replica that died before its own scan — waits for the next scan, at most a lease
        later (as long as a dead replica's word is trusted anyway)."""
        if self.leases.clock() >= self._next_scan:
            await self.expire_graces()

    async def expire_graces(self) -> None:
        """On every replica: technicians routing counts as available whose leases all ended
        more than the grace period ago become unavailable (exactly once overall: the write
        is conditional on the sequence)."""
        now = self.leases.clock()
        self._next_scan = now + self.leases.lease
        for technician in await self.technicians.published_available():
            if technician.live(now, self.leases.grace):
                self._expect(technician)
                continue
            async with self._locks[technician.technician_id]:
                await self._reconcile_locked(
                    technician.technician_id, f"disconnected-{technician.technician_id}", technician
                )
            if stale := technician.stale_leases(now, self.leases.grace):
                await self.technicians.forget_leases(technician.technician_id, stale)

    def _expect(self, technician: Technician) -> None:
        """Scan again by the time this technician's grace period may end, if they are available."""
        if technician.published is not None and technician.leases:
            ends = max(lease.until for lease in technician.leases.values()) + self.leases.grace
            self._next_scan = min(self._next_scan, ends)

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
        known_portals: dict[str, bool] | None = None,
        *,
        chosen: ChosenStatus | None = None,
        actor: Actor = Actor.SYSTEM,
        actor_id: str | None = None,
    ) -> tuple[Technician | None, dict[str, bool]]:
        """Bring routing up to date and record the shown state if it changed (with who caused
        it), with the newly `chosen` status if any: ONE conditional write of all that changed
        (its event with it), re-read and retried when someone else changed the technician
        meanwhile. `known` is a fresh read of the technician and `known_portals` of their
        portals, if the caller has them. Returns the technician as stored afterwards, and
        their portals.

        The write is conditional on the sequence only, so another replica may have changed
        what the decision rests on (a lease taken by a socket opening there) between our read
        and our write, and decided from the state before ours. Whoever writes last must see
        both: so the stored result of every write is decided on again, until nothing is left
        to do (usually at once, and without a read: the write returns the document)."""
        technician, portals = known, {}
        for _ in range(MAX_ATTEMPTS):
            if technician is None:
                technician = await self.technicians.get(technician_id)
            if technician is None:
                return None, {}
            if known_portals is not None:
                portals, known_portals = known_portals, None  # the first attempt only
            else:
                portals = await self.portals.companies_with_portal(technician.company_ids)
            wanted = technician if chosen is None else choosing(technician, chosen)
            live = wanted.live(self.leases.clock(), self.leases.grace)
            active = {c for c, is_active in portals.items() if is_active}
            change = next_change(wanted, live=live, active_portal_companies=active)
            shown = self.status_log.change(technician, shown_state(wanted, live=live, active_portal_companies=active))
            if change is None and shown is None and chosen is None:
                self._expect(technician)
                return technician, portals
            told, payload = self._told(wanted, change) if change is not None else (None, None)
            after = await self.technicians.record(
                technician,
                told=told,
                chosen=chosen,
                shown=shown,
                keep_days=self.status_log.keep_days,
                events=[self._event(payload, correlation_id=correlation_id)] if payload is not None else [],
            )
            if after is not None:
                if payload is not None:
                    log.info(
                        "availability changed",
                        technician_id=technician_id,
                        event_type=payload.event_type,
                        sequence=payload.sequence,
                    )
                if shown is not None:
                    await self.status_log.recorded(technician_id, shown, actor, actor_id)
                technician, known_portals, chosen = after, portals, None  # decide on what is stored
                continue
            technician = None  # someone else changed it: read again
        log.warning("availability not reconciled: kept losing races", technician_id=technician_id)
        if chosen is not None:  # the technician's choice stands, whatever the races
            technician = await self.technicians.set_chosen(technician_id, chosen)
        return technician, portals

    @staticmethod
    def _told(technician: Technician, change: Change) -> tuple[Told, TechnicianAvailable | TechnicianUnavailable]:
        """What routing is to be told, and the event that tells it."""
        if isinstance(change, BecameAvailable):
            available = TechnicianAvailable(
                technician_id=technician.technician_id,
                account_id=technician.account_id,
                display_name=change.routing.display_name,
                company_ids=list(change.routing.company_ids),
                capacity=change.routing.capacity,
                sequence=change.sequence,
            )
            return Told(change.routing, available.model_dump(mode="json"), change.sequence), available
        unavailable = TechnicianUnavailable(
            technician_id=technician.technician_id,
            account_id=technician.account_id,
            company_ids=list(change.company_ids),
            reason=change.reason,
            sequence=change.sequence,
        )
        return Told(None, None, change.sequence), unavailable

    async def announce(self, technician_id: str, technician: Technician | None = None) -> None:
        """Tell the technician's open help centers (on any replica) what changed for them;
        `technician` as the caller's write just stored them, if it has that."""
        if technician is None:
            technician = await self.technicians.get(technician_id)
        if technician is not None and technician.connected(self.leases.clock()):
            portals = await self.portals.recent_companies_with_portal(technician.company_ids)
            await self.channel.send(technician_id, status_frame(await self.view(technician, portals)))


def status_frame(view: PresenceView) -> dict[str, object]:
    return {"type": "status", **view.as_dict()}


def hello_frame(view: PresenceView, preferences: dict[str, object]) -> dict[str, object]:
    return {"type": "hello", **view.as_dict(), "preferences": preferences}

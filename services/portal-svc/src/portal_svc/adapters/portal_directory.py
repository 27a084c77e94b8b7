"""Portals by subdomain for the customer side, with a short per-replica cache.

Every submission and portal view starts by finding the portal and its company's name; both
change rarely, so each replica keeps what it read for `ttl_seconds`. A change forgets its
entry at once on the replica that made it, and `told` passes the change on to every other
replica (a live frame: at most once), which forgets it too. A frame lost with the broker
leaves a replica serving what it read for `ttl_seconds` at most: the bound on how long a
deactivated portal may still accept a request there. Misses are not cached: a portal created
a moment ago is found at once.
"""

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.mongo import Doc
from portal_svc.adapters.portals import PortalRepository

MAX_ENTRIES = 10_000


async def _nobody_else(_subdomains: Sequence[str]) -> None:
    return None


class PortalDirectory:
    def __init__(
        self,
        portals: PortalRepository,
        companies: CompanyRepository,
        *,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._portals = portals
        self._companies = companies
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, Doc]] = {}
        self.told: Callable[[Sequence[str]], Awaitable[None]] = _nobody_else
        """Tells every other replica which subdomains changed (they call `forget`)."""

    async def by_subdomain(self, subdomain: str) -> Doc | None:
        """The portal (with `company_name`), as read at most `ttl_seconds` ago."""
        now = self._clock()
        cached = self._entries.get(subdomain)
        if cached is not None and cached[0] > now:
            return dict(cached[1])
        portal = await self._portals.by_subdomain(subdomain)
        if portal is None:
            self._entries.pop(subdomain, None)
            return None
        company = await self._companies.get(portal["account_id"], portal["company_id"])
        entry: dict[str, Any] = {**portal, "company_name": company["name"] if company else portal["subdomain"]}
        if self._ttl > 0:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                if len(self._entries) >= MAX_ENTRIES:  # all fresh: a flood of subdomains
                    self._entries.clear()
            self._entries[subdomain] = (now + self._ttl, entry)
        return dict(entry)

    def forget(self, *subdomains: str) -> None:
        """Drop these entries (the next read goes to the store)."""
        for subdomain in subdomains:
            self._entries.pop(subdomain, None)

    async def changed(self, *subdomains: str) -> None:
        """After a stored change: forget here at once, and on every other replica."""
        self.forget(*subdomains)
        await self.told(subdomains)

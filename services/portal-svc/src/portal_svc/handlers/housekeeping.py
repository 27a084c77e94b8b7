"""Upkeep that runs periodically or once per deployment, never on a customer's request path."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from portal_svc.adapters.markers import MarkerRepository
from portal_svc.adapters.requests import ARCHIVE_BATCH, RequestRepository
from portal_svc.domain.requests import FINISHED
from portal_svc.handlers.technicians import Technicians
from servicekit.logging import get_logger

log = get_logger(__name__)


class Housekeeping:
    def __init__(
        self,
        requests: RequestRepository,
        markers: MarkerRepository,
        technicians: Technicians,
        forget_expired_limits: Callable[[], Awaitable[int]],
        *,
        history_retention: timedelta,
        deployment_version: str,
        reannounce_companies: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._reannounce_companies = reannounce_companies
        self._requests = requests
        self._markers = markers
        self._technicians = technicians
        self._forget_expired_limits = forget_expired_limits
        self._retention = history_retention
        self._version = deployment_version
        self.reannounced = False
        """Whether this deployment version's re-announcement is done (by us or a predecessor)."""

    async def archive_finished(self) -> int:
        """Move finished requests out of the live collection, batch after batch."""
        total = 0
        finished = frozenset(s.value for s in FINISHED)
        while moved := await self._requests.archive_finished(finished, self._retention):
            total += moved
            if moved < ARCHIVE_BATCH:
                break  # the last batch: looking again finds nothing (the next round takes newcomers)
        if total:
            log.info("finished requests archived", count=total)
        return total

    async def forget_old_history(self, now: datetime | None = None) -> int:
        forgotten = await self._requests.forget_history(now or datetime.now(UTC))
        if forgotten:
            log.info("request history past retention deleted", count=forgotten)
        return forgotten

    async def forget_expired_limits(self) -> int:
        return await self._forget_expired_limits()

    async def reannounce_tick(self) -> None:
        """Periodic until it succeeds once, then nothing: start-up never waits for it, and a
        failure (store or broker down) is retried on the next tick."""
        if not self.reannounced:
            await self.reannounce_once(self._version)
            self.reannounced = True

    async def reannounce_once(self, version: str) -> bool:
        """Re-publish every technician (and company) once per deployment `version` (True when it ran now).

        Two replicas starting together may both run it: consumers ignore a revision they
        already hold, so the duplicate costs nothing but messages.
        """
        marker = f"technicians-reannounced:{version}"
        if await self._markers.is_set(marker):
            return False
        count = await self._technicians.reannounce()
        companies = await self._reannounce_companies() if self._reannounce_companies else 0
        await self._markers.set(marker)
        log.info("technicians re-announced", count=count, companies=companies, version=version)
        return True

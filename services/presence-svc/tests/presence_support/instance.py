"""A presence-svc instance served in process for tests (start, stop, restart on one database)."""

from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from presence_svc.bootstrap import bootstrap
from presence_svc.config import Settings
from presence_svc.handlers import Handlers
from servicekit.runtime import Service
from testkit.services import serve_in_process


@dataclass
class Presence:
    rabbitmq_url: str
    settings: Settings
    base_url: str = ""
    service: Service | None = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def handlers(self) -> Handlers:
        assert self.service is not None
        return self.service.handlers

    async def start(self) -> None:
        self.service = bootstrap(self.settings)
        self._stack = AsyncExitStack()
        self.base_url = await self._stack.enter_async_context(serve_in_process(self.service.app))

    async def stop(self) -> None:
        await self._stack.aclose()

    async def restart(self, **settings: object) -> None:
        """Stop the process's work and start a fresh one on the same database, with
        `settings` changed for the new process."""
        await self.stop()
        self.settings = self.settings.model_copy(update=settings)
        await self.start()

"""The one way a service runs something periodically (sweepers, clean-ups, read-model refreshes)."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from servicekit.logging import get_logger
from servicekit.tracing import Tracing

log = get_logger(__name__)


@dataclass(frozen=True)
class Periodic:
    """`tick` runs every `seconds`, and at once whenever `wake` is set.

    A failing tick is logged (with its traceback unless the failure is a known outage) and
    the loop goes on: one bad tick must not stop a sweeper for the life of the process.
    With tracing on, each tick is the root span of a trace of its own (`Tracing.ticking`).
    """

    name: str
    seconds: float
    tick: Callable[[], Awaitable[Any]]
    wake: asyncio.Event | None = None
    transient: tuple[type[BaseException], ...] = ()
    tracing: Tracing = field(default_factory=Tracing.off)

    async def run_forever(self) -> None:
        while True:
            await self._wait()
            try:
                with self.tracing.ticking(self.name):
                    await self.tick()
            except asyncio.CancelledError:
                raise
            except self.transient as error:
                log.warning("periodic task failed, retrying", task=self.name, error=f"{type(error).__name__}: {error}")
            except Exception:
                log.exception("periodic task failed", task=self.name)

    async def _wait(self) -> None:
        if self.wake is None:
            await asyncio.sleep(self.seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout=self.seconds)
        self.wake.clear()

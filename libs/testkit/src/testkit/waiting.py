"""Waiting for an eventually consistent system: poll until a condition holds, then assert."""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any


class NotReached(AssertionError, TimeoutError):
    """A condition that did not hold in time: a test failure (AssertionError) that code written
    against the older helpers (which raised TimeoutError) still recognises."""


async def eventually(
    probe: Callable[[], Any | Awaitable[Any]],
    *,
    timeout: float = 20.0,
    every: float = 0.1,
    what: str = "",
) -> Any:
    """The first truthy result of `probe` (sync or async), polled every `every` seconds.

    Raises `NotReached` with the last result after `timeout` seconds. Use it as the positive
    barrier before asserting that something did NOT happen, never a bare `sleep`.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise NotReached(f"{what or 'condition'} not reached within {timeout}s (last: {result!r})")
        await asyncio.sleep(every)

"""The periodic-loop helper: one failing tick never stops the loop, a wake-up runs it at once."""

import asyncio

from servicekit.periodic import Periodic


async def test_a_failing_tick_is_logged_and_the_loop_goes_on():
    ticks: list[int] = []
    done = asyncio.Event()

    async def tick() -> None:
        ticks.append(len(ticks))
        if len(ticks) == 1:
            raise RuntimeError("one bad tick")
        if len(ticks) == 3:
            done.set()

    task = asyncio.create_task(Periodic(name="t", seconds=0.01, tick=tick).run_forever())
    try:
        await asyncio.wait_for(done.wait(), timeout=5)
    finally:
        task.cancel()
    assert ticks == [0, 1, 2]


async def test_a_wakeup_runs_the_tick_before_its_period():
    wake = asyncio.Event()
    ran = asyncio.Event()

    async def tick() -> None:
        ran.set()

    task = asyncio.create_task(Periodic(name="t", seconds=3600, tick=tick, wake=wake).run_forever())
    try:
        wake.set()
        await asyncio.wait_for(ran.wait(), timeout=5)
    finally:
        task.cancel()
    assert not wake.is_set()

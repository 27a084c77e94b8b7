"""Run portal-svc: `python -m portal_svc` (configured by environment variables).

`python -m portal_svc seed` creates the demo account (see `portal_svc.handlers.seed`) and exits.
"""

import asyncio
import sys

from servicekit.broker import EVENTS
from servicekit.logging import configure_logging
from servicekit.runtime import serve

from portal_svc.bootstrap import build_context
from portal_svc.config import Settings
from portal_svc.handlers.seed import seed_demo


async def _seed(settings: Settings) -> None:
    ctx = build_context(settings)
    try:
        await ctx.repo.create_indexes()
        await ctx.runtime.broker.connect()
        # On a fresh broker nobody may have declared the exchange yet.
        await ctx.runtime.broker.declare_exchange(EVENTS)
        await seed_demo(ctx)
        # Events that could not be published now are left staged for the running service's sweeper.
    finally:
        await ctx.runtime.broker.stop()
        await ctx.runtime.mongo.close()


def main() -> None:
    settings = Settings()
    if sys.argv[1:] == ["seed"]:
        configure_logging(settings.service_name, settings.log_level, settings.log_json)
        asyncio.run(_seed(settings))
        return
    from portal_svc.bootstrap import bootstrap

    serve(bootstrap(settings).app, settings)


if __name__ == "__main__":
    main()

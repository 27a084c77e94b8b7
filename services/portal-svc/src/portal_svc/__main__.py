"""Run portal-svc: `python -m portal_svc` (configured by environment variables).

`python -m portal_svc seed` creates the demo account (see `portal_svc.handlers.seed`) and exits.
`python -m portal_svc reannounce` re-publishes `TechnicianUpdated` for every technician at its
current revision (for services that started following technicians late) and exits.
"""

import asyncio
import sys

from portal_svc.bootstrap import EMITS, bootstrap, build_handlers
from portal_svc.config import Settings
from servicekit.broker import EVENTS
from servicekit.logging import configure_logging, get_logger
from servicekit.runtime import create_runtime, serve


async def _one_off(settings: Settings, command: str) -> None:
    runtime = create_runtime(settings, emits=EMITS)
    handlers, repositories = build_handlers(runtime, settings)
    try:
        for repository in repositories:
            await repository.ensure_indexes()
        await runtime.broker.connect()
        # On a fresh broker nobody may have declared the exchange yet.
        await runtime.broker.declare_exchange(EVENTS)
        if command == "seed":
            await handlers.seed.run()
        else:
            count = await handlers.technicians.reannounce()
            get_logger(__name__).info("technicians re-announced", count=count)
        # Events that could not be published now are left staged for the running service's sweeper.
    finally:
        await runtime.broker.stop()
        await runtime.mongo.close()


def main() -> None:
    settings = Settings()
    if sys.argv[1:] in (["seed"], ["reannounce"]):
        configure_logging(settings.service_name, settings.log_level, settings.log_json)
        asyncio.run(_one_off(settings, sys.argv[1]))
        return
    serve(bootstrap(settings).app, settings)


if __name__ == "__main__":
    main()

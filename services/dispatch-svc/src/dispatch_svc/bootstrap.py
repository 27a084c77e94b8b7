"""Composition root of dispatch-svc: the one place its parts are wired, for production and tests."""

import asyncio
from dataclasses import dataclass

from faststream_fastapi import FastStreamAPI

from contracts import (
    ConnectionCodeIssued,
    ConnectionCodeRevoked,
    RequestAssigned,
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestRejected,
)
from servicekit.runtime import Runtime, asyncapi_document, build_app, create_runtime

from dispatch_svc.adapters.codes import Codes
from dispatch_svc.adapters.portals import Portals
from dispatch_svc.adapters.requests import Requests
from dispatch_svc.adapters.technicians import Technicians
from dispatch_svc.config import Settings
from dispatch_svc.entrypoints.api import api_router
from dispatch_svc.entrypoints.consumers import register_consumers
from dispatch_svc.handlers.routing import Dispatch
from dispatch_svc.handlers.sweeper import sweep_forever

DESCRIPTION = "Assistline dispatch-svc: routing for the Web, Phone and Queue modes, connection codes, queue state."

EMITS: tuple = (
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestAssigned,
    RequestRejected,
    ConnectionCodeIssued,
    ConnectionCodeRevoked,
)


@dataclass
class Service:
    app: FastStreamAPI
    runtime: Runtime
    dispatch: Dispatch

    def asyncapi(self) -> str:
        return asyncapi_document(self.runtime, description=DESCRIPTION)


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    db = runtime.db
    dispatch = Dispatch(
        runtime=runtime,
        settings=settings,
        requests=Requests(db["requests"], db["request_history"], runtime.outbox),
        technicians=Technicians(db["technicians"], default_capacity=settings.default_capacity),
        codes=Codes(db["codes"], db["code_history"], db["code_guards"], runtime.outbox),
        portals=Portals(db["portals"]),
    )
    # Only these two carry staged events; history collections never do.
    runtime.outbox.track(dispatch.requests.live, dispatch.codes.live)
    register_consumers(runtime.broker, runtime.service, dispatch)
    runtime.background.append(lambda: sweep_forever(dispatch))

    async def on_startup() -> None:
        await asyncio.gather(
            dispatch.requests.create_indexes(),
            dispatch.technicians.create_indexes(),
            dispatch.codes.create_indexes(),
        )

    app = build_app(runtime, routers=[api_router(dispatch)], description=DESCRIPTION, on_startup=on_startup)
    return Service(app=app, runtime=runtime, dispatch=dispatch)

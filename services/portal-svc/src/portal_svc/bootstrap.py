"""Composition root of portal-svc: the one place its parts are wired, for production and tests."""

from dataclasses import dataclass
from functools import partial

from faststream_fastapi import FastStreamAPI

from contracts import PortalConfigured, RequestCancelled, RequestSubmitted, TechnicianUpdated
from servicekit.runtime import Runtime, asyncapi_document, build_app, create_runtime

from portal_svc.adapters.ratelimit import SlidingWindowLimiter
from portal_svc.adapters.repository import Repository
from portal_svc.config import Settings
from portal_svc.entrypoints.api import staff_router
from portal_svc.entrypoints.consumers import register_consumers
from portal_svc.entrypoints.pages import assets_router, pages_router
from portal_svc.entrypoints.public import public_router
from portal_svc.handlers.context import Context
from portal_svc.handlers.events import bootstrap_availability_forever
from portal_svc.handlers.seed import seed_demo

DESCRIPTION = "Assistline portal-svc: accounts, companies, portals, embed code, the customer portal and request submission."

EMITS: tuple = (TechnicianUpdated, PortalConfigured, RequestSubmitted, RequestCancelled)


@dataclass
class Service:
    app: FastStreamAPI
    runtime: Runtime
    context: Context

    def asyncapi(self) -> str:
        return asyncapi_document(self.runtime, description=DESCRIPTION)


def build_context(settings: Settings) -> Context:
    runtime = create_runtime(settings, emits=EMITS)
    repo = Repository(runtime.db)
    runtime.outbox.track(*repo.outbox_collections)
    return Context(
        runtime=runtime,
        settings=settings,
        repo=repo,
        submissions=SlidingWindowLimiter(
            settings.submission_limit, settings.submission_window_seconds, what="submissions"
        ),
        logins=SlidingWindowLimiter(settings.login_limit, settings.login_window_seconds, what="sign-in attempts"),
    )


def bootstrap(settings: Settings) -> Service:
    ctx = build_context(settings)
    register_consumers(ctx)

    async def on_startup() -> None:
        await ctx.repo.create_indexes()
        if settings.seed_demo:
            await seed_demo(ctx)

    ctx.runtime.background.append(partial(bootstrap_availability_forever, ctx))
    app = build_app(
        ctx.runtime,
        routers=[staff_router(ctx), public_router(ctx), assets_router()],
        root_routers=[pages_router(ctx)],
        description=DESCRIPTION,
        on_startup=on_startup,
    )
    return Service(app=app, runtime=ctx.runtime, context=ctx)

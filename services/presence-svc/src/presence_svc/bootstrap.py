"""Composition root of presence-svc: the one place its parts are wired, for production and tests.

presence-svc runs as exactly ONE instance: it holds the help centers' WebSockets, and
"connected" (hence effective availability and the grace timers) is what this process sees.
A second replica would disagree with the first about who is connected; scale it up only
after moving connection state out of process.
"""

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from faststream_fastapi import FastStreamAPI

from contracts import TechnicianAvailable, TechnicianUnavailable
from servicekit.runtime import Runtime, asyncapi_document, build_app, create_runtime

from presence_svc.adapters.alerts import AlertRepository
from presence_svc.adapters.mailer import Mailer
from presence_svc.adapters.portals import PortalRepository
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.config import Settings
from presence_svc.entrypoints.api import api_router
from presence_svc.entrypoints.consumers import register_consumers
from presence_svc.entrypoints.ws import ws_router
from presence_svc.handlers.alerts import AlertHandlers
from presence_svc.handlers.preferences import PreferenceHandlers
from presence_svc.handlers.presence import PresenceHandlers

DESCRIPTION = "Assistline presence-svc: technician availability and connection, notification preferences, alerts."

EMITS: tuple = (TechnicianAvailable, TechnicianUnavailable)


@dataclass
class Service:
    app: FastStreamAPI
    runtime: Runtime
    presence: PresenceHandlers
    alerts: AlertHandlers

    def asyncapi(self) -> str:
        return asyncapi_document(self.runtime, description=DESCRIPTION)


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    technicians = TechnicianRepository(runtime.db["technicians"])
    portals = PortalRepository(runtime.db["portals"])
    alert_store = AlertRepository(
        runtime.db["alerts"], retention=timedelta(seconds=settings.alert_retention_seconds)
    )
    runtime.outbox.track(technicians.collection)
    mailer = Mailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        timeout=settings.smtp_timeout_seconds,
    )
    presence = PresenceHandlers(runtime, technicians, portals, settings.presence_grace_seconds)
    alerts = AlertHandlers(presence, technicians, alert_store, mailer)
    preferences = PreferenceHandlers(technicians)
    register_consumers(runtime.broker, runtime.service, presence, alerts)

    async def on_startup() -> None:
        await technicians.ensure_indexes()
        await alert_store.ensure_indexes()
        # Publishing needs no live broker yet: events wait in the outbox for the sweeper.
        await presence.recover()

    runtime.background.append(_cleanup_on_shutdown(presence, alerts))

    app = build_app(
        runtime,
        routers=[
            api_router(runtime, presence, preferences),
            ws_router(
                runtime,
                presence,
                alerts,
                preferences,
                heartbeat_timeout=settings.heartbeat_timeout_seconds,
            ),
        ],
        description=DESCRIPTION,
        on_startup=on_startup,
    )
    return Service(app=app, runtime=runtime, presence=presence, alerts=alerts)


def _cleanup_on_shutdown(presence: PresenceHandlers, alerts: AlertHandlers):
    """Background tasks are cancelled when the app stops: this one then stops the grace
    timers (nothing may publish into a closed database) and lets e-mails finish."""

    async def wait_then_stop() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await presence.connections.stop()
            await alerts.stop()

    return wait_then_stop

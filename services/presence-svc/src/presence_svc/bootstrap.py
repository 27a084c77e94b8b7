"""Composition root of presence-svc: the one place its parts are wired, for production and tests.

presence-svc runs on any number of replicas: each holds some help centers' WebSockets,
records them as leases on the technicians (shared in MongoDB) and hands frames to them
from the live fan-out (RabbitMQ), whichever replica produced the frame.
"""

from datetime import timedelta

from contracts import EventPayload, TechnicianAvailable, TechnicianUnavailable
from presence_svc.adapters.alerts import AlertRepository
from presence_svc.adapters.connections import ConnectionRegistry
from presence_svc.adapters.live import TechnicianChannel
from presence_svc.adapters.portals import PortalRepository
from presence_svc.adapters.status_history import StatusHistoryRepository
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.config import Settings
from presence_svc.entrypoints import consumers
from presence_svc.entrypoints.api import api_router
from presence_svc.entrypoints.metrics import PresenceMetrics
from presence_svc.entrypoints.ws import ws_router
from presence_svc.handlers import Handlers
from presence_svc.handlers.alerts import AlertHandlers
from presence_svc.handlers.invitations import InvitationAlerts
from presence_svc.handlers.preferences import PreferenceHandlers
from presence_svc.handlers.presence import Leases, PresenceHandlers, replica_key
from presence_svc.handlers.status_log import StatusLog
from presence_svc.handlers.streak import StreakHandlers
from presence_svc.handlers.technicians import TechnicianHandlers
from presence_svc.handlers.transfers import TransferAlerts
from servicekit.live import LiveFanout
from servicekit.mailer import Mailer
from servicekit.runtime import Runtime, Service, assemble, create_runtime

DESCRIPTION = "Assistline presence-svc: technician availability and connection, notification preferences, alerts."

EMITS: tuple[type[EventPayload], ...] = (TechnicianAvailable, TechnicianUnavailable)


def build_handlers(runtime: Runtime, settings: Settings) -> tuple[Handlers, list]:
    """The use cases over their repositories (also returned, for their indexes)."""
    technicians = TechnicianRepository(runtime.outbox_collection("technicians"))
    portals = PortalRepository(runtime.collection("portals"))
    alert_store = AlertRepository(
        runtime.collection("alerts"),
        runtime.collection("alert_history"),
        settle=timedelta(seconds=settings.alert_settle_seconds),
        retention=timedelta(seconds=settings.alert_retention_seconds),
    )
    connections = ConnectionRegistry()
    channel = TechnicianChannel(LiveFanout(runtime.broker, runtime.service), connections)
    channel.subscribe()
    leases = Leases(
        replica=replica_key(channel.fanout.replica),
        lease=timedelta(seconds=settings.presence_lease_seconds),
        grace=timedelta(seconds=settings.presence_grace_seconds),
    )
    history = StatusHistoryRepository(
        runtime.collection("status_history"), retention=timedelta(days=settings.status_history_retention_days)
    )
    status_log = StatusLog(technicians, history, keep_days=settings.status_history_retention_days + 1)
    presence = PresenceHandlers(technicians, portals, connections, channel, runtime.event, leases, status_log)
    alerts = AlertHandlers(
        channel,
        technicians,
        alert_store,
        Mailer.from_settings(settings),
        # Past the first attempt's own timeout, so the retry tick does not race it.
        resend_after=timedelta(seconds=settings.email_retry_seconds + settings.smtp_timeout_seconds),
        grace=timedelta(seconds=settings.presence_grace_seconds),
    )
    handlers = Handlers(
        presence=presence,
        alerts=alerts,
        preferences=PreferenceHandlers(technicians),
        technicians=TechnicianHandlers(technicians, presence, alerts),
        streak=StreakHandlers(
            technicians, presence, limit=settings.missed_requests_limit, retention=settings.streak_retention_seconds
        ),
        status_log=status_log,
        transfers=TransferAlerts(technicians, presence),
        invitations=InvitationAlerts(technicians, presence),
    )
    return handlers, [technicians, portals, alert_store, history]


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    PresenceMetrics(runtime.metrics)
    handlers, repositories = build_handlers(runtime, settings)
    consumers.register(runtime.broker, runtime.service, handlers)

    runtime.every(settings.presence_lease_seconds / 3, handlers.presence.renew_leases, name="presence-leases")
    # A grace period ends at most this late (a fraction of it, at most a second); the store
    # is only read when one may have ended.
    runtime.every(
        min(1.0, settings.presence_grace_seconds / 5), handlers.presence.expire_graces_when_due, name="presence-grace"
    )
    runtime.every(settings.email_retry_seconds, handlers.alerts.resend_when_due, name="email-retry")
    runtime.every(settings.alert_cleanup_seconds, handlers.alerts.settle, name="alert-settle")
    runtime.every(settings.alert_history_purge_seconds, handlers.alerts.forget_history, name="alert-history-purge")
    runtime.every(settings.alert_cleanup_seconds, handlers.streak.prune, name="streak-prune")
    runtime.every(settings.status_history_purge_seconds, handlers.status_log.history.purge, name="status-history-purge")

    return assemble(
        runtime,
        handlers=handlers,
        description=DESCRIPTION,
        routers=[
            api_router(handlers, runtime.auth),
            ws_router(handlers, runtime.auth, heartbeat_timeout=settings.heartbeat_timeout_seconds),
        ],
        repositories=repositories,
        # E-mails in flight finish (bounded by the SMTP timeout) while the database is open.
        on_shutdown=handlers.alerts.stop,
    )

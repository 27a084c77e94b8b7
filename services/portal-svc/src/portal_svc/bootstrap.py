"""Composition root of portal-svc: the one place its parts are wired, for production and tests."""

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version

from contracts import (
    CompanyUpdated,
    EventPayload,
    OfflineMessageAnswered,
    OfflineMessageLeft,
    PortalConfigured,
    RequestCancelled,
    RequestSubmitted,
    TechnicianUpdated,
)
from portal_svc.adapters.accounts import AccountRepository
from portal_svc.adapters.availability import AvailabilityRepository
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.customer_history import CustomerHistoryRepository
from portal_svc.adapters.dashboard import DashboardRepository
from portal_svc.adapters.markers import MarkerRepository
from portal_svc.adapters.messages import MessageRepository
from portal_svc.adapters.portal_directory import PortalDirectory
from portal_svc.adapters.portals import PortalRepository
from portal_svc.adapters.presence import PresenceClient
from portal_svc.adapters.requests import RequestRepository
from portal_svc.adapters.tokens import TokenIssuer
from portal_svc.adapters.users import UserRepository
from portal_svc.adapters.waits import WaitRepository
from portal_svc.config import Settings
from portal_svc.entrypoints import consumers
from portal_svc.entrypoints.api import staff_router
from portal_svc.entrypoints.dashboard import dashboard_router
from portal_svc.entrypoints.dashboard_ws import DashboardHub, dashboard_ws_router
from portal_svc.entrypoints.metrics import PortalMetrics
from portal_svc.entrypoints.pages import assets_router, pages_router
from portal_svc.entrypoints.public import public_router
from portal_svc.entrypoints.supervisors import supervisors_router
from portal_svc.entrypoints.ws import CustomerHub, customer_ws_router
from portal_svc.handlers import Handlers
from portal_svc.handlers.accounts import Accounts
from portal_svc.handlers.auth import StaffAuth
from portal_svc.handlers.availability import AvailabilityReadModel
from portal_svc.handlers.companies import Companies
from portal_svc.handlers.customer_panel import CustomerPanel
from portal_svc.handlers.customers import CustomerPortal
from portal_svc.handlers.dashboard import Dashboard
from portal_svc.handlers.housekeeping import Housekeeping
from portal_svc.handlers.messages import OfflineMessages
from portal_svc.handlers.portals import Portals
from portal_svc.handlers.request_status import RequestStatus
from portal_svc.handlers.seed import DemoSeed
from portal_svc.handlers.supervisors import Supervisors
from portal_svc.handlers.technicians import Technicians
from portal_svc.handlers.webhook_alerts import WebhookAlerts
from servicekit.live import LiveFanout, LiveFrame
from servicekit.mailer import Mailer
from servicekit.ratelimit import SharedLimiter
from servicekit.runtime import Repository, Runtime, Service, assemble, create_runtime

DESCRIPTION = (
    "Assistline portal-svc: accounts, companies, portals, embed code, the customer portal and request submission."
)

PORTALS_TOPIC = "portals"
"""Live frames naming changed portals: every replica's cache forgets them."""

EMITS: tuple[type[EventPayload], ...] = (
    CompanyUpdated,
    TechnicianUpdated,
    PortalConfigured,
    RequestSubmitted,
    RequestCancelled,
    OfflineMessageLeft,
    OfflineMessageAnswered,
)


def build_handlers(runtime: Runtime, settings: Settings) -> tuple[Handlers, list[Repository]]:
    """The use cases over their repositories (also returned, for their indexes)."""
    accounts = AccountRepository(runtime.collection("accounts"))
    users = UserRepository(runtime.outbox_collection("users"))
    companies = CompanyRepository(runtime.outbox_collection("companies"))
    customer_history = CustomerHistoryRepository(runtime.collection("customer_history"))
    portals = PortalRepository(runtime.outbox_collection("portals"))
    requests = RequestRepository(runtime.outbox_collection("requests"), runtime.collection("requests_history"))
    availability = AvailabilityRepository(runtime.collection("availability"))
    markers = MarkerRepository(runtime.collection("markers"))
    messages = MessageRepository(runtime.outbox_collection("messages"), runtime.collection("messages_answered"))
    dashboard_days = DashboardRepository(runtime.collection("dashboard_days"))
    waits = WaitRepository(dashboard_days, sample_size=settings.wait_sample_size)
    mailer = Mailer.from_settings(settings)
    directory = PortalDirectory(portals, companies, ttl_seconds=settings.portal_cache_seconds)

    secret = settings.jwt_secret.get_secret_value()
    tokens = TokenIssuer(
        secret,
        staff_access=timedelta(seconds=settings.staff_token_ttl_seconds),
        staff_refresh=timedelta(hours=settings.staff_refresh_ttl_hours),
        customer=timedelta(hours=settings.customer_token_ttl_hours),
    )
    # One budget per address across every replica, counted in one collection. Sign-ins and
    # sign-ups share theirs: both guess at credentials.
    counters = runtime.collection("limits")
    logins = SharedLimiter(
        counters, what="sign-in attempts", limit=settings.login_limit, window_seconds=settings.login_window_seconds
    )
    refreshes = SharedLimiter(
        counters, what="refreshes", limit=settings.refresh_limit, window_seconds=settings.refresh_window_seconds
    )
    submissions = SharedLimiter(
        counters,
        what="submissions",
        limit=settings.submission_limit,
        window_seconds=settings.submission_window_seconds,
    )
    stamp = runtime.event
    technicians = Technicians(users, companies, stamp)
    portal_handlers = Portals(portals, companies, directory, stamp, public_base_url=settings.public_base_url)
    company_handlers = Companies(companies, portals, users, portal_handlers, technicians, directory, stamp)
    handlers = Handlers(
        auth=StaffAuth(users, tokens, logins, refreshes),
        accounts=Accounts(accounts, users, companies, logins, stamp),
        technicians=technicians,
        companies=company_handlers,
        portals=portal_handlers,
        customers=CustomerPortal(
            directory, users, requests, availability, waits, tokens, stamp, public_base_url=settings.public_base_url
        ),
        customer_panel=CustomerPanel(customer_history, requests, companies),
        request_status=RequestStatus(requests),
        availability=AvailabilityReadModel(availability, users, PresenceClient(settings.presence_url, secret)),
        seed=DemoSeed(accounts, users, companies, portals, stamp),
        submissions=submissions,
        housekeeping=Housekeeping(
            requests,
            markers,
            technicians,
            # Every limiter shares the collection: one clean-up serves them all.
            submissions.forget_expired,
            history_retention=timedelta(days=settings.history_retention_days),
            deployment_version=deployment_version(settings),
            reannounce_companies=company_handlers.reannounce,
        ),
        messages=OfflineMessages(
            messages,
            directory,
            users,
            companies,
            mailer,
            stamp,
            public_base_url=settings.public_base_url,
            retention=timedelta(days=settings.message_retention_days),
        ),
        dashboard=Dashboard(dashboard_days, companies, availability, requests),
        directory=directory,
        supervisors=Supervisors(users),
        webhook_alerts=WebhookAlerts(users, markers, mailer, public_base_url=settings.public_base_url),
    )
    # `submissions` stands for the `limits` collection's TTL index (shared by all three).
    repositories: list[Repository] = [accounts, users, companies, portals, requests, availability, markers, submissions]
    return handlers, [*repositories, messages, customer_history, dashboard_days]


def deployment_version(settings: Settings) -> str:
    if settings.deployment_version:
        return settings.deployment_version
    try:
        return version("portal-svc")
    except PackageNotFoundError:
        return "unknown"


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    PortalMetrics(runtime.metrics)
    handlers, repositories = build_handlers(runtime, settings)
    consumers.register(runtime.broker, runtime.service, handlers)
    # Customers' waiting screens: every replica hears which company's requests moved.
    fanout = LiveFanout(runtime.broker, runtime.service)
    hub = CustomerHub(handlers.customers, fanout)
    # The supervisor dashboard's sockets ride the same fan-out (one queue per replica).
    dashboard_hub = DashboardHub(handlers.dashboard, handlers.auth.current, fanout)

    async def portals_changed(subdomains: Sequence[str]) -> None:
        await fanout.publish(PORTALS_TOPIC, {"subdomains": list(subdomains)})

    async def deliver(frame: LiveFrame) -> None:
        if frame.topic == PORTALS_TOPIC:
            handlers.directory.forget(*frame.frame.get("subdomains", ()))
        await hub.deliver(frame)
        await dashboard_hub.deliver(frame)

    fanout.subscribe(deliver)
    handlers.directory.told = portals_changed
    handlers.dashboard.changed = dashboard_hub.changed
    handlers.supervisors.removed = dashboard_hub.revoked
    handlers.request_status.changed = hub.changed
    handlers.customers.changed = hub.changed

    # Asked at once, then every `presence_retry_seconds` until presence-svc answers.
    ask_now = asyncio.Event()
    ask_now.set()
    runtime.every(
        settings.presence_retry_seconds, handlers.availability.snapshot_tick, name="availability-snapshot", wake=ask_now
    )
    upkeep = handlers.housekeeping
    runtime.every(settings.archive_every_seconds, upkeep.archive_finished, name="requests-archive")
    runtime.every(settings.history_cleanup_seconds, upkeep.forget_old_history, name="requests-history-retention")
    runtime.every(settings.limits_cleanup_seconds, upkeep.forget_expired_limits, name="limits-cleanup")
    runtime.every(settings.message_archive_seconds, handlers.messages.archive_answered, name="messages-archive")
    runtime.every(settings.history_cleanup_seconds, handlers.messages.forget_old, name="messages-retention")
    runtime.every(settings.history_cleanup_seconds, handlers.dashboard.forget_old_days, name="dashboard-retention")
    runtime.every(settings.history_cleanup_seconds, handlers.companies.purge_deleted, name="companies-purge")
    if settings.reannounce_on_start:
        # Once per deployment version, off the start-up path (see `Housekeeping.reannounce_tick`).
        run_now = asyncio.Event()
        run_now.set()
        runtime.every(settings.reannounce_retry_seconds, upkeep.reannounce_tick, name="reannounce", wake=run_now)

    async def on_startup() -> None:
        if settings.seed_demo:
            await handlers.seed.run()
        await handlers.availability.reconcile_technicians()

    return assemble(
        runtime,
        handlers=handlers,
        description=DESCRIPTION,
        routers=[
            staff_router(handlers, runtime.auth),
            dashboard_router(handlers.dashboard, runtime.auth, handlers.auth.current),
            dashboard_ws_router(dashboard_hub, handlers.dashboard, runtime.auth, handlers.auth.current),
            supervisors_router(handlers.supervisors, runtime.auth),
            public_router(handlers, runtime.auth),
            customer_ws_router(hub, runtime.auth),
            assets_router(),
        ],
        root_routers=[pages_router(handlers.customers, settings.portal_base_domain)],
        repositories=repositories,
        on_startup=on_startup,
    )

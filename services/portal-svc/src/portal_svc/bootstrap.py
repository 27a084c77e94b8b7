"""Composition root of portal-svc: the one place its parts are wired, for production and tests."""

import asyncio
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version

from contracts import EventPayload, PortalConfigured, RequestCancelled, RequestSubmitted, TechnicianUpdated
from portal_svc.adapters.accounts import AccountRepository
from portal_svc.adapters.availability import AvailabilityRepository
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.markers import MarkerRepository
from portal_svc.adapters.portal_directory import PortalDirectory
from portal_svc.adapters.portals import PortalRepository
from portal_svc.adapters.presence import PresenceClient
from portal_svc.adapters.requests import RequestRepository
from portal_svc.adapters.tokens import TokenIssuer
from portal_svc.adapters.users import UserRepository
from portal_svc.config import Settings
from portal_svc.entrypoints import consumers
from portal_svc.entrypoints.api import staff_router
from portal_svc.entrypoints.pages import assets_router, pages_router
from portal_svc.entrypoints.public import public_router
from portal_svc.handlers import Handlers
from portal_svc.handlers.accounts import Accounts
from portal_svc.handlers.auth import StaffAuth
from portal_svc.handlers.availability import AvailabilityReadModel
from portal_svc.handlers.customers import CustomerPortal
from portal_svc.handlers.housekeeping import Housekeeping
from portal_svc.handlers.portals import Portals
from portal_svc.handlers.request_status import RequestStatus
from portal_svc.handlers.seed import DemoSeed
from portal_svc.handlers.technicians import Technicians
from servicekit.ratelimit import SharedLimiter
from servicekit.runtime import Repository, Runtime, Service, assemble, create_runtime

DESCRIPTION = (
    "Assistline portal-svc: accounts, companies, portals, embed code, the customer portal and request submission."
)

EMITS: tuple[type[EventPayload], ...] = (TechnicianUpdated, PortalConfigured, RequestSubmitted, RequestCancelled)


def build_handlers(runtime: Runtime, settings: Settings) -> tuple[Handlers, list[Repository]]:
    """The use cases over their repositories (also returned, for their indexes)."""
    accounts = AccountRepository(runtime.collection("accounts"))
    users = UserRepository(runtime.outbox_collection("users"))
    companies = CompanyRepository(runtime.collection("companies"))
    portals = PortalRepository(runtime.outbox_collection("portals"))
    requests = RequestRepository(runtime.outbox_collection("requests"), runtime.collection("requests_history"))
    availability = AvailabilityRepository(runtime.collection("availability"))
    markers = MarkerRepository(runtime.collection("markers"))
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
    handlers = Handlers(
        auth=StaffAuth(users, tokens, logins, refreshes),
        accounts=Accounts(accounts, users, companies, logins),
        technicians=technicians,
        portals=Portals(portals, companies, directory, stamp, public_base_url=settings.public_base_url),
        customers=CustomerPortal(
            directory, users, requests, availability, tokens, stamp, public_base_url=settings.public_base_url
        ),
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
        ),
    )
    # `submissions` stands for the `limits` collection's TTL index (shared by all three).
    return handlers, [accounts, users, companies, portals, requests, availability, markers, submissions]


def deployment_version(settings: Settings) -> str:
    if settings.deployment_version:
        return settings.deployment_version
    try:
        return version("portal-svc")
    except PackageNotFoundError:
        return "unknown"


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    handlers, repositories = build_handlers(runtime, settings)
    consumers.register(runtime.broker, runtime.service, handlers)

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
            public_router(handlers, runtime.auth),
            assets_router(),
        ],
        root_routers=[pages_router(handlers.customers, settings.portal_base_domain)],
        repositories=repositories,
        on_startup=on_startup,
    )

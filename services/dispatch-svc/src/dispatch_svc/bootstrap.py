"""Composition root of dispatch-svc: the one place its parts are wired, for production and tests."""

from datetime import timedelta

from contracts import (
    ConnectionCodeIssued,
    ConnectionCodeRevoked,
    EventPayload,
    RequestAcknowledged,
    RequestAssigned,
    RequestCancelled,
    RequestColleagueInvited,
    RequestColleagueJoined,
    RequestColleagueLeft,
    RequestInvitationLapsed,
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestRejected,
    RequestReturnedToQueue,
    RequestTransferLapsed,
    RequestTransferOffered,
    RequestTransferred,
)
from dispatch_svc.adapters.codes import CodeRepository
from dispatch_svc.adapters.companies import DeletedCompanies
from dispatch_svc.adapters.portals import PortalRepository
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.config import Settings
from dispatch_svc.entrypoints import consumers
from dispatch_svc.entrypoints.api import api_router
from dispatch_svc.entrypoints.contention import contention_router
from dispatch_svc.entrypoints.invitations import invitation_router
from dispatch_svc.entrypoints.metrics import DispatchMetrics, MeasuredAnnouncer, MeasuredInbox
from dispatch_svc.entrypoints.partitions import Membership, Partitions
from dispatch_svc.entrypoints.transfers import transfer_router
from dispatch_svc.handlers import Handlers
from dispatch_svc.handlers.common import Rejections
from dispatch_svc.handlers.companies import CompanyDeletions
from dispatch_svc.handlers.invitation import Invitations
from dispatch_svc.handlers.lifecycle import RequestLifecycle
from dispatch_svc.handlers.phone import ConnectionCodes, PhoneRouting
from dispatch_svc.handlers.queue import QueueRouting
from dispatch_svc.handlers.roster import TechnicianRoster
from dispatch_svc.handlers.routing import Router
from dispatch_svc.handlers.sweeper import Sweeper
from dispatch_svc.handlers.transfer import Transfers
from dispatch_svc.handlers.web import WebRouting
from servicekit.runtime import Runtime, Service, assemble, create_runtime

DESCRIPTION = "Assistline dispatch-svc: routing for the Web, Phone and Queue modes, connection codes, queue state."

EMITS: tuple[type[EventPayload], ...] = (
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestAssigned,
    RequestAcknowledged,
    RequestRejected,
    RequestCancelled,
    RequestTransferOffered,
    RequestTransferred,
    RequestTransferLapsed,
    RequestColleagueInvited,
    RequestColleagueJoined,
    RequestColleagueLeft,
    RequestInvitationLapsed,
    RequestReturnedToQueue,
    ConnectionCodeIssued,
    ConnectionCodeRevoked,
)


def build_handlers(runtime: Runtime, settings: Settings) -> tuple[Handlers, list]:
    """The use cases over their repositories (also returned, for their indexes)."""
    # Only live requests and live codes carry events; their history collections never do.
    requests = RequestRepository(runtime.outbox_collection("requests"), runtime.collection("request_history"))
    technicians = TechnicianRepository(runtime.collection("technicians"), default_capacity=settings.default_capacity)
    codes = CodeRepository(
        runtime.outbox_collection("codes"), runtime.collection("code_history"), runtime.collection("code_guards")
    )
    portals = PortalRepository(runtime.collection("portals"))
    deleted = DeletedCompanies(runtime.collection("deleted_companies"))

    metrics = DispatchMetrics(runtime.metrics, offer_timeout=settings.offer_timeout_seconds)
    runtime.metrics.refresh_with(metrics.refresher(requests, technicians))
    announce = MeasuredAnnouncer(runtime.event, metrics)
    rejections = Rejections(requests, announce)
    connection_codes = ConnectionCodes(codes, technicians, announce, settings, portals)
    queue = QueueRouting(requests, technicians, announce, accept_timeout=settings.accept_timeout_seconds)
    web = WebRouting(requests, technicians, announce, rejections, offer_timeout=settings.offer_timeout_seconds)
    phone = PhoneRouting(requests, technicians, codes, announce, rejections, settings)
    router = Router(requests, technicians, queue, web, phone)
    transfers = Transfers(
        requests,
        technicians,
        router,
        announce,
        timeout=settings.transfer_timeout_seconds,
        offer_timeout=settings.offer_timeout_seconds,
    )
    invitations = Invitations(
        requests,
        technicians,
        router,
        announce,
        timeout=settings.transfer_timeout_seconds,
        max_technicians=settings.max_technicians_per_chat,
    )
    companies = CompanyDeletions(requests, deleted, announce)
    handlers = Handlers(
        settings=settings,
        lifecycle=RequestLifecycle(
            requests,
            technicians,
            portals,
            router,
            announce,
            rejections,
            deleted=deleted,
            tombstone_lifetime=timedelta(seconds=settings.tombstone_seconds),
        ),
        roster=TechnicianRoster(technicians, requests, router, web, connection_codes),
        router=router,
        inbox=MeasuredInbox(requests, technicians, web, announce, metrics=metrics),
        codes=connection_codes,
        sweeper=Sweeper(
            requests,
            technicians,
            codes,
            router,
            connection_codes,
            transfers,
            invitations,
            companies,
            stuck_after=settings.stuck_after_seconds,
        ),
        transfers=transfers,
        invitations=invitations,
        companies=companies,
    )
    return handlers, [requests, technicians, codes, portals, deleted]


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    handlers, repositories = build_handlers(runtime, settings)
    partitions = None
    if settings.partitions:
        partitions = Partitions(runtime.service, settings.partitions, Membership(settings.member_heartbeat_seconds))
    consumers.register(runtime.broker, runtime.service, handlers, partitions)

    async def sweep() -> None:
        await handlers.sweeper.tick()

    runtime.every(settings.sweep_interval_seconds, sweep, name="dispatch-sweeper")
    on_broker_connected = None
    if partitions is not None:
        company_partitions = partitions

        async def heartbeat() -> None:
            await company_partitions.beat(runtime.broker)

        async def on_broker_connected() -> None:
            await company_partitions.bind(runtime.broker, list(consumers.PARTITIONED))

        runtime.every(settings.member_heartbeat_seconds, heartbeat, name="dispatch-members")
    return assemble(
        runtime,
        handlers=handlers,
        description=DESCRIPTION,
        routers=[
            api_router(handlers, runtime.auth),
            transfer_router(handlers, runtime.auth),
            invitation_router(handlers, runtime.auth),
            contention_router(),
        ],
        repositories=repositories,
        on_broker_connected=on_broker_connected,
    )

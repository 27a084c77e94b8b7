"""Composition root of dispatch-svc: the one place its parts are wired, for production and tests."""

from contracts import (
    ConnectionCodeIssued,
    ConnectionCodeRevoked,
    EventPayload,
    RequestAssigned,
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestRejected,
)
from dispatch_svc.adapters.codes import CodeRepository
from dispatch_svc.adapters.portals import PortalRepository
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.config import Settings
from dispatch_svc.entrypoints import consumers
from dispatch_svc.entrypoints.api import api_router
from dispatch_svc.handlers import Handlers
from dispatch_svc.handlers.common import Announcer, Rejections
from dispatch_svc.handlers.inbox import Inbox
from dispatch_svc.handlers.lifecycle import RequestLifecycle
from dispatch_svc.handlers.phone import ConnectionCodes, PhoneRouting
from dispatch_svc.handlers.queue import QueueRouting
from dispatch_svc.handlers.roster import TechnicianRoster
from dispatch_svc.handlers.routing import Router
from dispatch_svc.handlers.sweeper import Sweeper
from dispatch_svc.handlers.web import WebRouting
from servicekit.runtime import Runtime, Service, assemble, create_runtime

DESCRIPTION = "Assistline dispatch-svc: routing for the Web, Phone and Queue modes, connection codes, queue state."

EMITS: tuple[type[EventPayload], ...] = (
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestAssigned,
    RequestRejected,
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

    announce = Announcer(runtime.event)
    rejections = Rejections(requests, announce)
    connection_codes = ConnectionCodes(codes, technicians, announce, settings)
    queue = QueueRouting(requests, technicians, announce, accept_timeout=settings.accept_timeout_seconds)
    web = WebRouting(requests, technicians, announce, rejections, offer_timeout=settings.offer_timeout_seconds)
    phone = PhoneRouting(requests, technicians, codes, announce, rejections, settings)
    router = Router(requests, technicians, queue, web, phone)
    handlers = Handlers(
        settings=settings,
        lifecycle=RequestLifecycle(requests, technicians, portals, router, announce, rejections),
        roster=TechnicianRoster(technicians, requests, router, web, connection_codes),
        router=router,
        inbox=Inbox(requests, technicians, web),
        codes=connection_codes,
        sweeper=Sweeper(
            requests, technicians, codes, router, connection_codes, stuck_after=settings.stuck_after_seconds
        ),
    )
    return handlers, [requests, technicians, codes, portals]


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    handlers, repositories = build_handlers(runtime, settings)
    consumers.register(runtime.broker, runtime.service, handlers)

    async def sweep() -> None:
        await handlers.sweeper.tick()

    runtime.every(settings.sweep_interval_seconds, sweep, name="dispatch-sweeper")
    return assemble(
        runtime,
        handlers=handlers,
        description=DESCRIPTION,
        routers=[api_router(handlers, runtime.auth)],
        repositories=repositories,
    )

"""Composition root of chat-svc: the one place its parts are wired, for production and tests."""

from datetime import UTC, datetime

from chat_svc.adapters.hub import Hub
from chat_svc.adapters.messages import MessageRepository
from chat_svc.adapters.sessions import SessionRepository
from chat_svc.adapters.technicians import TechnicianRepository
from chat_svc.config import Settings
from chat_svc.entrypoints import consumers
from chat_svc.entrypoints.api import api_router
from chat_svc.entrypoints.ws import ws_router
from chat_svc.handlers import Handlers
from chat_svc.handlers.lifecycle import Lifecycle
from chat_svc.handlers.live import LiveChat
from chat_svc.handlers.reading import Reading
from chat_svc.handlers.technicians import TechnicianRecords
from chat_svc.handlers.timeline import Timeline
from contracts import ChatSessionEnded, ChatSessionStarted, EventPayload
from servicekit.runtime import Runtime, Service, assemble, create_runtime

DESCRIPTION = (
    "Assistline chat-svc: chat sessions between customer and technician, transcripts. "
    "Chat text is plain text: clients must render it as text (textContent), never as HTML."
)

EMITS: tuple[type[EventPayload], ...] = (ChatSessionStarted, ChatSessionEnded)


def build_handlers(
    runtime: Runtime, settings: Settings
) -> tuple[Handlers, SessionRepository, list[SessionRepository | MessageRepository | TechnicianRepository]]:
    """The use cases over their repositories (also returned, for their indexes)."""
    # Only sessions carry events (ChatSessionStarted / Ended ride on the session document).
    sessions = SessionRepository(runtime.outbox_collection("sessions"))
    messages = MessageRepository(runtime.collection("messages"))
    technicians = TechnicianRepository(runtime.collection("technicians"))
    hub = Hub(max_sockets_per_token=settings.max_sockets_per_token)
    timeline = Timeline(sessions, messages, hub)
    lifecycle = Lifecycle(runtime, timeline, abandon_after=settings.customer_abandon_seconds)
    records = TechnicianRecords(technicians, hub)
    handlers = Handlers(
        lifecycle=lifecycle,
        live=LiveChat(timeline, lifecycle, records, settings),
        reading=Reading(sessions, messages, records),
        technicians=records,
        timeline=timeline,
        sockets=hub,
    )
    return handlers, sessions, [sessions, messages, technicians]


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    handlers, sessions, repositories = build_handlers(runtime, settings)
    consumers.register(runtime.broker, runtime.service, handlers)
    runtime.every(settings.abandon_check_seconds, handlers.lifecycle.abandon_tick, name="chat-abandonment")

    async def on_startup() -> None:
        # After a restart no socket is open: every customer counts as away from now on.
        await sessions.reset_presence(datetime.now(UTC))

    return assemble(
        runtime,
        handlers=handlers,
        description=DESCRIPTION,
        routers=[
            api_router(runtime.auth, handlers),
            ws_router(runtime.auth, handlers, settings),
        ],
        repositories=repositories,
        on_startup=on_startup,
    )

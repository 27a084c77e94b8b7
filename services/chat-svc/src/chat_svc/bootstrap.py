"""Composition root of chat-svc: the one place its parts are wired, for production and tests."""

from contextlib import suppress
from datetime import UTC, datetime, timedelta

from chat_svc.adapters.canned import CannedReplyRepository
from chat_svc.adapters.companies import CompanyRepository
from chat_svc.adapters.history import HistoryRepository
from chat_svc.adapters.hub import Hub
from chat_svc.adapters.messages import MessageRepository, bucket_size
from chat_svc.adapters.ratings import RatingRepository
from chat_svc.adapters.replicas import Replicas, SocketCounter
from chat_svc.adapters.sessions import SessionRepository
from chat_svc.adapters.technicians import TechnicianRepository
from chat_svc.config import Settings
from chat_svc.domain.frames import message_frame
from chat_svc.entrypoints import consumers
from chat_svc.entrypoints.api import api_router
from chat_svc.entrypoints.canned import canned_router
from chat_svc.entrypoints.metrics import ChatMetrics
from chat_svc.entrypoints.ws import ws_router
from chat_svc.handlers import Handlers
from chat_svc.handlers.canned import CannedReplies
from chat_svc.handlers.companies import CompanyNames
from chat_svc.handlers.lifecycle import Lifecycle
from chat_svc.handlers.live import LiveChat
from chat_svc.handlers.rating import Ratings
from chat_svc.handlers.reading import Reading
from chat_svc.handlers.technicians import TechnicianRecords
from chat_svc.handlers.timeline import Timeline
from contracts import ChatSessionEnded, ChatSessionRated, ChatSessionStarted, EventPayload
from servicekit.live import LiveFanout
from servicekit.outbox import TRANSIENT
from servicekit.runtime import Repository, Runtime, Service, assemble, create_runtime

DESCRIPTION = (
    "Assistline chat-svc: chat sessions between customer and technician, transcripts. "
    "Chat text is plain text: clients must render it as text (textContent), never as HTML."
)

EMITS: tuple[type[EventPayload], ...] = (ChatSessionStarted, ChatSessionEnded, ChatSessionRated)
DAY = 86400.0
COUNTER_IDLE = timedelta(days=1)
"""A token's socket counter unused this long is deleted (longer than any token lives)."""


def build_handlers(runtime: Runtime, settings: Settings) -> tuple[Handlers, list[Repository]]:
    """The use cases over their repositories (also returned, for their indexes)."""
    fanout = LiveFanout(runtime.broker, runtime.service)
    size = bucket_size(settings.message_bucket_size, settings.max_message_chars)
    # Only sessions carry events (ChatSessionStarted / Ended ride on the session document).
    sessions = SessionRepository(runtime.outbox_collection("sessions"))
    runtime.metrics.refresh_with(ChatMetrics(runtime.metrics).refresher(sessions))
    # Bucket 0 of a session's messages is its session document (see `adapters.messages`).
    messages = MessageRepository(sessions.collection, runtime.collection("messages"), size=size)
    history = HistoryRepository(runtime.collection("history"))
    archived = MessageRepository(runtime.collection("history"), runtime.collection("history"), size=size)
    technicians = TechnicianRepository(runtime.collection("technicians"))
    replicas = Replicas(runtime.collection("replicas"), fanout.replica, lease_seconds=settings.replica_lease_seconds)
    counter = SocketCounter(runtime.collection("sockets"), replicas, batched=settings.socket_release_seconds > 0)
    hub = Hub(max_sockets_per_token=settings.max_sockets_per_token, fanout=fanout, counter=counter)
    timeline = Timeline(sessions, messages, hub)
    lifecycle = Lifecycle(
        runtime,
        timeline,
        history,
        replicas,
        abandon_after=settings.customer_abandon_seconds,
        archive_after=settings.archive_after_seconds,
        history_retention=settings.history_retention_days * DAY,
        cancelled_retention=settings.cancelled_marker_days * DAY,
    )
    records = TechnicianRecords(technicians, hub, cache_seconds=settings.access_cache_seconds)

    async def catch_up(session_id: str, after: int) -> list[dict[str, object]]:
        return [message_frame(message) for message in (await messages.read(session_id, after)).messages]

    hub.on_catch_up(catch_up)
    hub.on_access_changed(records.apply)
    fanout.subscribe(hub.deliver)
    reading = Reading(sessions, messages, history, archived, records)
    # Ratings carry ChatSessionRated (their own outbox: a rating may come after archiving).
    ratings = RatingRepository(runtime.outbox_collection("ratings"))
    companies = CompanyRepository(runtime.collection("companies"))
    handlers = Handlers(
        lifecycle=lifecycle,
        live=LiveChat(timeline, lifecycle, records, history, archived, settings, replica=fanout.replica),
        reading=reading,
        technicians=records,
        timeline=timeline,
        sockets=hub,
        replicas=replicas,
        counter=counter,
        ratings=Ratings(runtime, ratings, reading),
        companies=CompanyNames(companies),
    )
    return handlers, [sessions, messages, history, technicians, replicas, counter, ratings, companies]


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    handlers, repositories = build_handlers(runtime, settings)
    consumers.register(runtime.broker, runtime.service, handlers)
    # Canned replies: chat-svc is where they are used, and it has its own view of technicians.
    canned_replies = CannedReplyRepository(runtime.collection("canned_replies"))
    canned = CannedReplies(canned_replies, TechnicianRepository(runtime.collection("technicians")))
    replicas = handlers.replicas
    runtime.every(settings.replica_lease_seconds / 3, replicas.renew, name="chat-replica-lease")
    runtime.every(settings.abandon_check_seconds, handlers.lifecycle.abandon_tick, name="chat-abandonment")
    runtime.every(settings.archive_check_seconds, handlers.lifecycle.archive_tick, name="chat-archive")
    runtime.every(3600.0, handlers.lifecycle.forget_due, name="chat-retention")

    async def forget_idle_counters() -> None:
        await handlers.counter.forget_idle(datetime.now(UTC) - COUNTER_IDLE)

    runtime.every(3600.0, forget_idle_counters, name="chat-socket-counters")
    if settings.socket_release_seconds > 0:
        runtime.every(settings.socket_release_seconds, handlers.counter.flush, name="chat-socket-releases")

    async def forget_old_ratings() -> None:
        retention = timedelta(seconds=settings.history_retention_days * DAY)
        await handlers.ratings.ratings.forget(datetime.now(UTC) - retention)

    runtime.every(3600.0, forget_old_ratings, name="chat-rating-retention")

    async def on_startup() -> None:
        # Known to the others before the first socket counts (and knowing them).
        await replicas.renew()

    async def on_shutdown() -> None:
        # Else the places of sockets closed last stay counted until this replica's lease ends.
        with suppress(*TRANSIENT):
            await handlers.counter.flush()

    return assemble(
        runtime,
        handlers=handlers,
        description=DESCRIPTION,
        routers=[
            api_router(runtime.auth, handlers),
            canned_router(runtime.auth, canned),
            ws_router(runtime.auth, handlers, settings),
        ],
        repositories=[*repositories, canned_replies],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
    )

"""Composition root of chat-svc: the one place its parts are wired, for production and tests."""

from dataclasses import dataclass
from datetime import UTC, datetime

from faststream_fastapi import FastStreamAPI

from contracts import ChatSessionEnded, ChatSessionStarted
from servicekit.runtime import Runtime, asyncapi_document, build_app, create_runtime

from chat_svc.adapters.hub import Hub
from chat_svc.adapters.messages import MessageRepository
from chat_svc.adapters.sessions import SessionRepository
from chat_svc.config import Settings
from chat_svc.entrypoints.api import api_router
from chat_svc.entrypoints.consumers import register_consumers
from chat_svc.entrypoints.ws import ws_router
from chat_svc.handlers.lifecycle import Lifecycle
from chat_svc.handlers.live import LiveChat
from chat_svc.handlers.reading import Reading
from chat_svc.handlers.timeline import Timeline

DESCRIPTION = (
    "Assistline chat-svc: chat sessions between customer and technician, transcripts. "
    "Chat text is plain text: clients must render it as text (textContent), never as HTML."
)

EMITS = (ChatSessionStarted, ChatSessionEnded)


@dataclass
class Service:
    app: FastStreamAPI
    runtime: Runtime
    sessions: SessionRepository
    messages: MessageRepository
    lifecycle: Lifecycle
    hub: Hub

    def asyncapi(self) -> str:
        return asyncapi_document(self.runtime, description=DESCRIPTION)


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    sessions = SessionRepository(runtime.db["sessions"], runtime.outbox)
    messages = MessageRepository(runtime.db["messages"])
    runtime.outbox.track(sessions.collection)
    hub = Hub(max_sockets_per_token=settings.max_sockets_per_token)
    timeline = Timeline(sessions, messages, hub)
    lifecycle = Lifecycle(runtime, timeline, abandon_after=settings.customer_abandon_seconds)
    live = LiveChat(runtime.auth, timeline, lifecycle, settings)
    reading = Reading(sessions, messages)

    register_consumers(runtime.broker, runtime.service, lifecycle)
    runtime.background.append(lambda: lifecycle.abandon_forever(settings.abandon_check_seconds))

    async def on_startup() -> None:
        await sessions.ensure_indexes()
        await messages.ensure_indexes()
        await sessions.reset_presence(datetime.now(UTC))

    app = build_app(
        runtime,
        routers=[
            api_router(runtime.auth, reading, lifecycle),
            ws_router(runtime.auth, live, hub, settings),
        ],
        description=DESCRIPTION,
        on_startup=on_startup,
    )
    return Service(
        app=app, runtime=runtime, sessions=sessions, messages=messages, lifecycle=lifecycle, hub=hub
    )

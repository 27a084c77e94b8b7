"""Composition root of chat-svc: the one place its parts are wired, for production and tests."""

from dataclasses import dataclass

from faststream_fastapi import FastStreamAPI

from servicekit.runtime import Runtime, asyncapi_document, build_app, create_runtime

from chat_svc.config import Settings

DESCRIPTION = "Assistline chat-svc: chat sessions between customer and technician, transcripts."

EMITS: tuple = ()


@dataclass
class Service:
    app: FastStreamAPI
    runtime: Runtime

    def asyncapi(self) -> str:
        return asyncapi_document(self.runtime, description=DESCRIPTION)


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    app = build_app(runtime, routers=[], description=DESCRIPTION)
    return Service(app=app, runtime=runtime)

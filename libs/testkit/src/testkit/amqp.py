"""A plain AMQP subscriber, the way an external system would listen to Assistline."""

import asyncio
import json
from typing import Any

import aio_pika

from contracts import EVENTS_EXCHANGE


class AmqpTap:
    """Binds its own exclusive queue to the events exchange and collects what arrives."""

    def __init__(self, url: str, *binding_keys: str) -> None:
        self.url = url
        self.binding_keys = binding_keys or ("#",)
        self.messages: list[dict[str, Any]] = []
        self.headers: dict[str, dict[str, Any]] = {}
        """The AMQP headers of each message collected, by message id (the event id)."""
        self._arrived = asyncio.Condition()
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def __aenter__(self) -> "AmqpTap":
        self._connection = await aio_pika.connect_robust(self.url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True)
        for key in self.binding_keys:
            await queue.bind(exchange, routing_key=key)
        await queue.consume(self._on_message)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._connection:
            await self._connection.close()

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            body = json.loads(message.body)
            if message.message_id is not None:
                self.headers[message.message_id] = dict(message.headers or {})
            async with self._arrived:
                self.messages.append(body)
                self._arrived.notify_all()

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == event_type]

    async def wait_for(self, predicate, timeout: float = 15.0) -> dict[str, Any]:
        """The first collected message matching `predicate`, waiting for it if needed."""

        async def find() -> dict[str, Any]:
            async with self._arrived:
                while True:
                    for message in self.messages:
                        if predicate(message):
                            return message
                    await self._arrived.wait()

        return await asyncio.wait_for(find(), timeout)


async def publish_raw(url: str, routing_key: str, body: bytes, **properties: Any) -> None:
    """Publish arbitrary bytes (poison messages, hand-made events) to the events exchange."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        await exchange.publish(aio_pika.Message(body=body, **properties), routing_key=routing_key)

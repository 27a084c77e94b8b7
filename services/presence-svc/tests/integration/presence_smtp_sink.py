"""An in-process SMTP sink for the tests (aiosmtpd, from the workspace's dev group).

The local run command starts its own sink (`python -m aiosmtpd`); this one collects the
messages so that tests can wait for them.
"""

import asyncio
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class SmtpSink:
    """Collects messages; `wait_for` blocks (without blocking the event loop) until one matches."""

    def __init__(self, host: str, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()
        self._controller = Controller(self, hostname=host, port=port)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    async def wait_for(self, predicate, timeout: float = 10.0) -> EmailMessage:
        def find() -> EmailMessage:
            with self._arrived:
                if not self._arrived.wait_for(
                    lambda: any(predicate(m) for m in self.messages), timeout=timeout
                ):
                    raise TimeoutError("no matching e-mail arrived")
                return next(m for m in self.messages if predicate(m))

        return await asyncio.to_thread(find)


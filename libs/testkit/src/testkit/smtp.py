"""An in-process SMTP sink for the tests (aiosmtpd, from the workspace's dev group).

The local run command starts its own sink (`python -m aiosmtpd`); this one collects the
messages so that tests can wait for them, and can refuse chosen ones once (an SMTP failure
after the alert was recorded, as a crash before sending would leave it).
"""

import asyncio
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

Predicate = Callable[[EmailMessage], bool]


class SmtpSink:
    """Collects messages; `wait_for` blocks (without blocking the event loop) until one matches."""

    def __init__(self, host: str, port: int, **controller_options: Any) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self.refused: list[EmailMessage] = []
        self._refuse: list[Predicate] = []
        self._arrived = threading.Condition()
        self._controller = Controller(self, hostname=host, port=port, **controller_options)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            for refuse in self._refuse:
                if refuse(message):
                    self._refuse.remove(refuse)
                    self.refused.append(message)
                    return "451 4.3.0 Temporary failure, try again later"
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def refuse_once(self, predicate: Predicate) -> None:
        """The next message matching `predicate` is refused with a temporary failure."""
        with self._arrived:
            self._refuse.append(predicate)

    def matching(self, predicate: Predicate) -> list[EmailMessage]:
        with self._arrived:
            return [m for m in self.messages if predicate(m)]

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    async def wait_for(self, predicate: Predicate, timeout: float = 10.0) -> EmailMessage:
        def find() -> EmailMessage:
            with self._arrived:
                if not self._arrived.wait_for(lambda: any(predicate(m) for m in self.messages), timeout=timeout):
                    raise TimeoutError("no matching e-mail arrived")
                return next(m for m in self.messages if predicate(m))

        return await asyncio.to_thread(find)

"""E-mail alerts through SMTP (aiosmtplib)."""

from email.message import EmailMessage

import aiosmtplib

from servicekit.logging import get_logger

log = get_logger(__name__)


class Mailer:
    def __init__(self, *, host: str, port: int, sender: str, timeout: float) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout

    async def send(self, recipients: list[str], subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message.set_content(body)
        await aiosmtplib.send(
            message, hostname=self._host, port=self._port, timeout=self._timeout, start_tls=False
        )
        log.info("alert e-mail sent", recipients=len(recipients), subject=subject)

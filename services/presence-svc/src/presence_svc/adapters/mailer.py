"""E-mail alerts through SMTP (aiosmtplib): plain, STARTTLS or implicit TLS, with optional AUTH."""

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from pydantic import SecretStr

from servicekit.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    timeout: float
    starttls: bool = False
    tls: bool = False
    validate_certs: bool = True
    username: str | None = None
    password: SecretStr | None = None


class Mailer:
    def __init__(self, transport: SmtpTransport, *, sender: str) -> None:
        self._transport = transport
        self._sender = sender

    async def send(self, recipients: list[str], subject: str, body: str, *, message_id: str) -> None:
        """Send one message. `message_id` is stable across retries of the same alert, so a
        mail client or server seeing it twice can tell it is the same message."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message["Message-ID"] = message_id
        message.set_content(body)
        t = self._transport
        await aiosmtplib.send(
            message,
            hostname=t.host,
            port=t.port,
            timeout=t.timeout,
            use_tls=t.tls,
            start_tls=t.starttls,
            validate_certs=t.validate_certs,
            username=t.username,
            password=t.password.get_secret_value() if t.password else None,
        )
        log.info("alert e-mail sent", recipients=len(recipients), message_id=message_id)

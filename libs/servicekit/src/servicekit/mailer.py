"""E-mail through SMTP (aiosmtplib): plain, STARTTLS or implicit TLS, with optional AUTH.

One set of `SMTP_*` settings and one mailer for every service that sends e-mail (presence-svc's
alerts, portal-svc's offline messages), so one SMTP server serves them all.
"""

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Self

import aiosmtplib
from pydantic import BaseModel, Field, SecretStr, model_validator

from servicekit.logging import get_logger

log = get_logger(__name__)


class SmtpSettings(BaseModel):
    """Mixed into a service's `Settings` (before `ServiceSettings`); each service sets its own
    `smtp_sender` default."""

    smtp_host: str = Field(default="127.0.0.1", description="SMTP server.")
    smtp_port: int = Field(default=1025, ge=1, le=65535, description="SMTP server port.")
    smtp_sender: str = Field(default="Assistline <support@assistline.local>", description="From: of e-mails.")
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, description="Give up on one e-mail after this long.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS (usually port 587)."
    )
    smtp_tls: bool = Field(default=False, description="Implicit TLS from the first byte (usually port 465).")
    smtp_validate_certs: bool = Field(
        default=True, description="Check the SMTP server's TLS certificate (turn off only for tests)."
    )
    smtp_username: str | None = Field(default=None, description="SMTP AUTH user; no authentication when unset.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP AUTH password.")

    @model_validator(mode="after")
    def _one_tls_mode(self) -> Self:
        if self.smtp_starttls and self.smtp_tls:
            raise ValueError("SMTP_STARTTLS and SMTP_TLS exclude each other: choose one")
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("SMTP_USERNAME and SMTP_PASSWORD go together")
        return self


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

    @classmethod
    def of(cls, settings: SmtpSettings) -> "SmtpTransport":
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            timeout=settings.smtp_timeout_seconds,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            validate_certs=settings.smtp_validate_certs,
            username=settings.smtp_username,
            password=settings.smtp_password,
        )


@dataclass(frozen=True)
class Mail:
    recipients: list[str]
    subject: str
    body: str
    message_id: str
    """Stable across retries of the same mail, so a receiver can tell a repeat."""
    reply_to: str | None = None
    in_reply_to: str | None = None


class Mailer:
    def __init__(self, transport: SmtpTransport, *, sender: str) -> None:
        self._transport = transport
        self._sender = sender

    @classmethod
    def from_settings(cls, settings: SmtpSettings) -> "Mailer":
        return cls(SmtpTransport.of(settings), sender=settings.smtp_sender)

    async def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(mail.recipients)
        message["Subject"] = mail.subject
        message["Message-ID"] = mail.message_id
        if mail.reply_to:
            message["Reply-To"] = mail.reply_to
        if mail.in_reply_to:
            message["In-Reply-To"] = mail.in_reply_to
            message["References"] = mail.in_reply_to
        message.set_content(mail.body)
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
        log.info("e-mail sent", recipients=len(mail.recipients), message_id=mail.message_id)

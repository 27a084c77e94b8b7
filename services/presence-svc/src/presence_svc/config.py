"""Configuration of presence-svc, from the environment."""

from typing import ClassVar, Self

from pydantic import Field, SecretStr, model_validator

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: ClassVar[str] = "presence-svc"
    default_port: ClassVar[int] = 8102

    presence_grace_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a technician who chose Available stays available for routing "
        "after their last help-center connection dropped (reconnecting within it changes nothing).",
    )
    presence_lease_seconds: float = Field(
        default=15.0,
        gt=0,
        description="How long a replica's word that a technician is connected holds; it renews it "
        "every third of this. When a replica dies, its technicians count as connected until "
        "their lease runs out, then get the grace period.",
    )
    heartbeat_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A WebSocket that sends nothing (clients send a heartbeat every ~10 s) for "
        "longer than this is closed.",
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server for e-mail alerts.")
    smtp_port: int = Field(default=1025, ge=1, le=65535, description="SMTP server port.")
    smtp_sender: str = Field(default="Assistline <alerts@assistline.local>", description="From: of e-mail alerts.")
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
    email_retry_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often e-mail alerts recorded but not confirmed sent (SMTP down, or the "
        "process stopped before sending) are sent again, and how old they must be first.",
    )
    alert_settle_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a closed alert (withdrawn, taken, cancelled) is remembered in the live "
        "alerts collection, so that an offer event arriving late or twice is not alerted again. "
        "Must exceed the longest offer (dispatch's OFFER_TIMEOUT_SECONDS) with room for queue delays.",
    )
    alert_retention_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="How long a settled request's alerts are kept in `alert_history` (for "
        "diagnostics; nothing on a hot path reads it) before they are deleted.",
    )
    alert_cleanup_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often settled requests move from the live alerts collection to the "
        "history, and expired history is deleted.",
    )

    @model_validator(mode="after")
    def _one_tls_mode(self) -> Self:
        if self.smtp_starttls and self.smtp_tls:
            raise ValueError("SMTP_STARTTLS and SMTP_TLS exclude each other: choose one")
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("SMTP_USERNAME and SMTP_PASSWORD go together")
        return self

"""Configuration of presence-svc, from the environment."""

from typing import ClassVar

from pydantic import Field

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
    heartbeat_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A WebSocket that sends nothing (clients send a heartbeat every ~10 s) for "
        "longer than this is closed.",
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server for e-mail alerts.")
    smtp_port: int = Field(default=1025, ge=1, le=65535, description="SMTP server port.")
    smtp_sender: str = Field(
        default="Assistline <alerts@assistline.local>", description="From: of e-mail alerts."
    )
    smtp_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Give up on one e-mail after this long."
    )
    alert_retention_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How long a closed alert is remembered (so a late duplicate or stale offer "
        "is not alerted again) before it is purged.",
    )

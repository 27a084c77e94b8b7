"""Configuration of presence-svc, from the environment."""

from typing import ClassVar

from pydantic import Field

from servicekit.mailer import SmtpSettings
from servicekit.settings import ServiceSettings


class Settings(ServiceSettings, SmtpSettings):
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
    smtp_sender: str = Field(default="Assistline <alerts@assistline.local>", description="From: of e-mail alerts.")
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
        description="How often settled requests move from the live alerts collection to the history.",
    )
    alert_history_purge_seconds: float = Field(
        default=600.0,
        gt=0,
        description="How often alert history past its retention is deleted (a scan of the history "
        "on the embedded store; the TTL index does it too).",
    )

    missed_requests_limit: int = Field(
        default=3,
        ge=0,
        le=100,
        description="A technician who lets this many offers or Queue assignments in a row lapse "
        "unanswered is set unavailable (reason `missed_requests`) until they choose Available "
        "again; 0 turns this off.",
    )
    streak_retention_seconds: float = Field(
        default=900.0,
        gt=0,
        description="How long a technician keeps an ask past its deadline, or the end of a chat whose "
        "assignment had not arrived yet (events on separate queues may overtake each other), before "
        "they are pruned. Must exceed any delay between those events; checked every "
        "ALERT_CLEANUP_SECONDS.",
    )
    status_history_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="How long each technician's status history (who changed it, when, why) is kept.",
    )
    status_history_purge_seconds: float = Field(
        default=3600.0, gt=0, description="How often status history past its retention is deleted."
    )

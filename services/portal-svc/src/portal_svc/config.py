"""Configuration of portal-svc, from the environment."""

from typing import ClassVar

from pydantic import Field

from servicekit.mailer import SmtpSettings
from servicekit.settings import ServiceSettings


class Settings(ServiceSettings, SmtpSettings):
    service_name: ClassVar[str] = "portal-svc"
    default_port: ClassVar[int] = 8101

    presence_url: str = Field(
        default="http://127.0.0.1:8102",
        description="Base URL of presence-svc, asked once at start-up for the availability snapshot.",
    )
    presence_retry_seconds: float = Field(
        default=5.0, gt=0, description="Pause between snapshot attempts while presence-svc is unreachable."
    )
    public_base_url: str = Field(
        default="http://localhost:8080",
        description="Public URL of the gateway, used in portal URLs and embed code.",
    )
    portal_base_domain: str = Field(
        default="localhost",
        description="Portals are also served at `{subdomain}.{portal_base_domain}` (Host header).",
    )
    seed_demo: bool = Field(default=False, description="Create the demo account at start-up (idempotent).")
    staff_token_ttl_seconds: int = Field(
        default=600,
        gt=0,
        description="Lifetime of an admin's or technician's access token; the UI refreshes it silently.",
    )
    staff_refresh_ttl_hours: float = Field(
        default=8.0, gt=0, description="Lifetime of a refresh token: how long a staff member stays signed in."
    )
    customer_token_ttl_hours: float = Field(default=24.0, gt=0, description="Lifetime of a customer's request token.")
    submission_limit: int = Field(
        default=10,
        ge=1,
        description="Submissions allowed per client address per window, one budget across all replicas "
        "(counted in the `limits` collection).",
    )
    submission_window_seconds: float = Field(default=60.0, gt=0, description="Sliding window of the submission limit.")
    login_limit: int = Field(
        default=20,
        ge=1,
        description="Sign-in and sign-up attempts allowed per client address per window, across all replicas.",
    )
    login_window_seconds: float = Field(default=60.0, gt=0, description="Sliding window of the sign-in limit.")
    refresh_limit: int = Field(
        default=60,
        ge=1,
        description="Token refreshes (`POST /auth/refresh`) allowed per client address per window, across all "
        "replicas (a desk of technicians behind one address refreshes every few minutes each).",
    )
    refresh_window_seconds: float = Field(default=60.0, gt=0, description="Sliding window of the refresh limit.")
    limits_cleanup_seconds: float = Field(
        default=60.0, gt=0, description="Pause between deletions of rate-limit counters whose windows have passed."
    )
    portal_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long a replica reuses a portal (and its company's name) read for the customer side. "
        "A change is passed to every replica at once over the broker; should that notice be lost, it is "
        "seen within this bound: a deactivated portal accepts requests on another replica for at most this "
        "long. 0 reads the store every time.",
    )
    archive_every_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Pause between moves of finished requests (ended, rejected, cancelled) from the live "
        "`requests` collection to `requests_history`.",
    )
    history_retention_days: float = Field(
        default=30.0,
        gt=0,
        description="How long a finished request stays readable by its id (in `requests_history`).",
    )
    history_cleanup_seconds: float = Field(
        default=600.0, gt=0, description="Pause between deletions of request history past its retention."
    )
    reannounce_on_start: bool = Field(
        default=True,
        description="At start-up, re-publish `TechnicianUpdated` for every technician once per "
        "`deployment_version` (a marker document makes it run once per version, not per restart).",
    )
    reannounce_retry_seconds: float = Field(
        default=30.0, gt=0, description="Pause before retrying a start-up re-announcement that failed."
    )
    deployment_version: str = Field(
        default="",
        description="Names this deployment for the once-per-version start-up steps; empty means the "
        "installed portal-svc package version.",
    )
    smtp_sender: str = Field(
        default="Assistline <support@assistline.local>", description="From: of offline-message e-mails."
    )
    message_archive_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Pause between moves of answered offline messages from the live `messages` collection "
        "to `messages_answered`.",
    )
    message_retention_days: float = Field(
        default=90.0, gt=0, description="How long an answered offline message (with its reply) is kept."
    )
    wait_sample_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="How many recent chats of a company the queue's estimated wait is computed from.",
    )

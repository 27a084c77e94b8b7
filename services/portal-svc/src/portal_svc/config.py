"""Configuration of portal-svc, from the environment."""

from typing import ClassVar

from pydantic import Field

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
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
    staff_token_ttl_hours: float = Field(default=8.0, gt=0, description="Lifetime of admin and technician tokens.")
    customer_token_ttl_hours: float = Field(default=24.0, gt=0, description="Lifetime of a customer's request token.")
    submission_limit: int = Field(default=10, ge=1, description="Submissions allowed per client address per window.")
    submission_window_seconds: float = Field(default=60.0, gt=0, description="Sliding window of the submission limit.")
    login_limit: int = Field(default=20, ge=1, description="Sign-in attempts allowed per client address per window.")
    login_window_seconds: float = Field(default=60.0, gt=0, description="Sliding window of the sign-in limit.")

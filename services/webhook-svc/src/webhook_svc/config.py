"""Configuration of webhook-svc, from the environment."""

from typing import ClassVar, Self

from pydantic import Field, model_validator

from servicekit.settings import ServiceSettings

HOUR = 3600.0


class Settings(ServiceSettings):
    service_name: ClassVar[str] = "webhook-svc"
    default_port: ClassVar[int] = 8105

    webhook_allow_private: bool = Field(
        default=False,
        description=(
            "Accept endpoints on private, loopback and link-local addresses, and plain HTTP towards "
            "them (development and tests only: in production a webhook must not reach inside the network)."
        ),
    )
    webhook_retry_schedule: list[float] = Field(
        default=[5.0, 300.0, 1800.0, 2 * HOUR, 5 * HOUR, 10 * HOUR],
        min_length=1,
        description=(
            "Seconds to wait after each failed attempt (JSON list); after the last one the delivery "
            "is given up. The default spreads 7 tries over about 17.5 hours."
        ),
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long one attempt may take (connect + response)."
    )
    webhook_disable_after_failures: int = Field(
        default=20, ge=1, description="Failed attempts in a row before an endpoint may be disabled."
    )
    webhook_disable_after_seconds: float = Field(
        default=24 * HOUR,
        ge=0,
        description="…and for how long it must have been failing: an endpoint is disabled when both hold.",
    )
    webhook_secret_overlap_seconds: float = Field(
        default=24 * HOUR,
        ge=0,
        description="After a rotation the old secret still signs (a second signature) for this long.",
    )
    webhook_poll_seconds: float = Field(default=1.0, gt=0, description="How often the worker looks for due deliveries.")
    webhook_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "A worker owns the deliveries of one request for this long per attempt: if it dies, "
            "another replica sends them after the lease ran out (at least once)."
        ),
    )
    webhook_order_settle_seconds: float = Field(
        default=1.0,
        ge=0,
        description=(
            "A new delivery waits this long before it is sent, so that an earlier event of the same "
            "request still in flight on another queue is sent first."
        ),
    )
    webhook_concurrency: int = Field(
        default=4, ge=1, le=64, description="Requests' deliveries sent at once per process."
    )
    webhook_max_endpoints: int = Field(default=20, ge=1, le=500, description="Endpoints one account may register.")
    webhook_log_retention_days: float = Field(
        default=30.0, gt=0, description="Finished deliveries stay in the delivery log this long."
    )

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> Self:
        # A lease running out during an attempt would let another worker send the same lane
        # at the same time: duplicates, and the request's order lost.
        if self.webhook_lease_seconds < 2 * self.webhook_timeout_seconds:
            raise ValueError("WEBHOOK_LEASE_SECONDS must be at least twice WEBHOOK_TIMEOUT_SECONDS")
        return self

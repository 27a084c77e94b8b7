"""The settings every service shares; each service subclasses it once."""

from typing import ClassVar, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "assistline-dev-secret-change-me-in-production"
"""Known to everyone who reads the code: only ever acceptable on a laptop or in tests."""


class ServiceSettings(BaseSettings):
    """Read from the environment (upper-case names), never from files baked into images."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    service_name: ClassVar[str]
    default_port: ClassVar[int]

    rabbitmq_url: str = Field(default="amqp://guest:guest@127.0.0.1:5672/", description="AMQP URL, vhost included.")
    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27017/?directConnection=true",
        description="MongoDB (or MongoDB-wire) URL.",
    )
    mongodb_db: str = Field(default="", description="Database name; defaults to the service name.")
    jwt_secret: SecretStr = Field(
        default=SecretStr(DEV_JWT_SECRET),
        description="HMAC secret signing every access token (shared by the services).",
    )
    dev_mode: bool = Field(
        default=False,
        # Prefixed in the environment: one switch for every service, not a per-service setting.
        validation_alias="assistline_dev_mode",
        description="Development mode (make run, tests): allows the development JWT secret.",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 0
    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="Force JSON logs; default: not a TTY.")
    outbox_sweep_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "How often events left behind by a crashed process are published. Every write publishes "
            "its own events at once and a failed publication wakes the sweep, so this only bounds the "
            "delay after a crash; each sweep costs a store command per outbox collection."
        ),
    )
    outbox_clear_seconds: float = Field(
        default=1.0,
        ge=0,
        description=(
            "How often the events this process published are removed from their documents, in one "
            "batch (one bulk write per collection); 0: one command right after each write. Keep it "
            "under the outbox's 5 s publish grace, or other replicas publish again what is not cleared yet."
        ),
    )
    broker_connect_timeout_seconds: float = Field(default=60.0, gt=0)
    # Traces (servicekit.tracing): off unless one of these is set.
    otel_exporter_otlp_endpoint: str = Field(
        default="",
        description="OTLP/HTTP collector base URL (spans go to <url>/v1/traces); empty: no OTLP export.",
    )
    traces_file: str = Field(
        default="", description="Append every span as a JSON line to this file (development, tests)."
    )
    metrics_refresh_seconds: float = Field(
        default=15.0, gt=0, description="How often gauges of shared state (waiting, chats active, …) are read."
    )

    @model_validator(mode="after")
    def _no_development_secret_in_production(self) -> Self:
        # A service that silently signs with a published key hands out admin access to anyone.
        if self.jwt_secret.get_secret_value() == DEV_JWT_SECRET and not self.dev_mode:
            raise ValueError(
                "JWT_SECRET is the development default: set JWT_SECRET to a secret of your own, "
                "or set ASSISTLINE_DEV_MODE=1 on a development machine"
            )
        return self

    @property
    def database_name(self) -> str:
        return self.mongodb_db or self.service_name

    @property
    def port(self) -> int:
        return self.http_port or self.default_port

    @property
    def api_prefix(self) -> str:
        """`portal-svc` serves under `/api/portal`, and so on: the gateway routes by prefix."""
        return "/api/" + self.service_name.removesuffix("-svc")

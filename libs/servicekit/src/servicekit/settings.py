"""The settings every service shares; each service subclasses it once."""

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Read from the environment (upper-case names), never from files baked into images."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: ClassVar[str]
    default_port: ClassVar[int]

    rabbitmq_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/", description="AMQP URL, vhost included."
    )
    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27017/?directConnection=true",
        description="MongoDB (or MongoDB-wire) URL.",
    )
    mongodb_db: str = Field(default="", description="Database name; defaults to the service name.")
    jwt_secret: SecretStr = Field(
        default=SecretStr("assistline-dev-secret-change-me-in-production"),
        description="HMAC secret signing every access token (shared by the services).",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 0
    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="Force JSON logs; default: not a TTY.")
    outbox_sweep_seconds: float = Field(default=2.0, gt=0)
    broker_connect_timeout_seconds: float = Field(default=60.0, gt=0)

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

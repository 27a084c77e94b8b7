"""Configuration of portal-svc, from the environment."""

from typing import ClassVar

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: ClassVar[str] = "portal-svc"
    default_port: ClassVar[int] = 8101

"""Configuration of presence-svc, from the environment."""

from typing import ClassVar

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: ClassVar[str] = "presence-svc"
    default_port: ClassVar[int] = 8102

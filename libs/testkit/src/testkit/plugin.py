"""pytest fixtures shared by every suite (loaded from the root conftest.py)."""

import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from servicekit.auth import Principal, Role, issue_token
from servicekit.settings import ServiceSettings
from testkit.backends import EmbeddedMongo, backends

DEV_SECRET = ServiceSettings.model_fields["jwt_secret"].default.get_secret_value()

# Tests sign tokens with the development secret, which a service only accepts in development
# mode; in-process apps read it from here, service processes inherit it (see services.py).
os.environ.setdefault("ASSISTLINE_DEV_MODE", "1")

BACKEND_FIXTURES = {"real_backends", "system", "fault_system"}
"""Fixtures that need the real RabbitMQ and MongoDB-wire server."""


def _tier(path: Path, fixtures: set[str]) -> str | None:
    """The marker a test gets from where it lives (and what it uses): `make unit` runs the rest."""
    parts = path.parts
    if "tests-e2e" in parts:
        return "e2e"
    if "integration" in parts or "integration" in path.name:
        return "integration"
    if fixtures & BACKEND_FIXTURES:
        return "integration"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = _tier(item.path, set(getattr(item, "fixturenames", ())))
        if tier and not item.get_closest_marker(tier):
            item.add_marker(getattr(pytest.mark, tier))


@dataclass(frozen=True)
class Backends:
    run_id: str
    rabbitmq_url: str
    mongodb_url: str
    embedded_mongo: EmbeddedMongo | None
    service_mongodb_urls: Mapping[str, str] = field(default_factory=dict)
    """A store of its own for these services (`EmbeddedStores`, as `make run` does); the
    others, and the tests' own clients, use `mongodb_url`."""

    def env(self, service: str) -> dict[str, str]:
        """Environment for a service process of this run (its own database)."""
        return {
            "RABBITMQ_URL": self.rabbitmq_url,
            "MONGODB_URL": self.service_mongodb_urls.get(service, self.mongodb_url),
            "MONGODB_DB": self.database(service),
            "JWT_SECRET": DEV_SECRET,
            "ASSISTLINE_DEV_MODE": "1",
        }

    def database(self, service: str) -> str:
        return f"{service}-{self.run_id}"

    def settings[S: ServiceSettings](self, settings_class: type[S], **overrides: Any) -> S:
        values: dict[str, Any] = {k.lower(): v for k, v in self.env(settings_class.service_name).items()}
        return settings_class(**{**values, **overrides})


@pytest.fixture(scope="session")
def run_id() -> str:
    return os.environ.get("ASSISTLINE_RUN_ID") or uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def real_backends(run_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    """The real RabbitMQ and MongoDB-wire server for this run."""
    data_dir: Path = tmp_path_factory.mktemp("mongo")
    with backends(run_id, data_dir) as (rabbit_url, mongo_url, embedded):
        yield Backends(run_id, rabbit_url, mongo_url, embedded)


def make_token(
    role: Role,
    *,
    subject: str,
    account_id: str = "acc_test",
    company_ids: list[str] | None = None,
    request_id: str | None = None,
    name: str = "",
    secret: str = DEV_SECRET,
) -> str:
    principal = Principal(
        subject=subject,
        role=role,
        account_id=account_id,
        company_ids=company_ids or [],
        request_id=request_id,
        name=name,
    )
    return issue_token(principal, secret, timedelta(hours=1))

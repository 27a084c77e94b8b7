"""pytest fixtures shared by every suite (loaded from the root conftest.py)."""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from servicekit.auth import Principal, Role, issue_token
from servicekit.settings import ServiceSettings
from testkit.backends import EmbeddedMongo, backends

DEV_SECRET = ServiceSettings.model_fields["jwt_secret"].default.get_secret_value()


@dataclass(frozen=True)
class Backends:
    run_id: str
    rabbitmq_url: str
    mongodb_url: str
    embedded_mongo: EmbeddedMongo | None

    def env(self, service: str) -> dict[str, str]:
        """Environment for a service process of this run (its own database)."""
        return {
            "RABBITMQ_URL": self.rabbitmq_url,
            "MONGODB_URL": self.mongodb_url,
            "MONGODB_DB": self.database(service),
            "JWT_SECRET": DEV_SECRET,
        }

    def database(self, service: str) -> str:
        return f"{service}-{self.run_id}"

    def settings[S: ServiceSettings](self, settings_class: type[S], **overrides: object) -> S:
        values = {k.lower(): v for k, v in self.env(settings_class.service_name).items()}
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

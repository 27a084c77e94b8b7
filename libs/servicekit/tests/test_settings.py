"""A service refuses the published development JWT secret unless told it runs in development."""

from typing import ClassVar

import pytest
from pydantic import ValidationError

from servicekit.settings import DEV_JWT_SECRET, ServiceSettings


class ExampleSettings(ServiceSettings):
    service_name: ClassVar[str] = "example-svc"
    default_port: ClassVar[int] = 8199


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test session itself runs in development mode (testkit sets it): start from nothing.
    for name in ("ASSISTLINE_DEV_MODE", "JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_the_development_secret_outside_development_mode_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        ExampleSettings()
    message = str(refused.value)
    assert "JWT_SECRET" in message and "ASSISTLINE_DEV_MODE" in message


@pytest.mark.parametrize("value", ["0", "false", "no"])
def test_dev_mode_switched_off_explicitly_still_refuses(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ASSISTLINE_DEV_MODE", value)
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        ExampleSettings()


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_development_mode_allows_the_development_secret(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ASSISTLINE_DEV_MODE", value)
    settings = ExampleSettings()
    assert settings.dev_mode is True
    assert settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET


def test_a_secret_of_ones_own_needs_no_development_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "a-real-secret-from-the-vault")
    settings = ExampleSettings()
    assert settings.dev_mode is False
    assert settings.jwt_secret.get_secret_value() == "a-real-secret-from-the-vault"


def test_development_mode_can_be_passed_by_field_name() -> None:
    assert ExampleSettings(dev_mode=True).dev_mode is True
    assert ExampleSettings.model_validate({"assistline_dev_mode": "1"}).dev_mode is True

"""servicekit.mailer: STARTTLS and AUTH against a local aiosmtpd server with a throw-away
certificate (no broker, no database)."""

import ssl
from typing import ClassVar

import aiosmtplib
import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr, ValidationError

from servicekit.mailer import Mail, Mailer, SmtpSettings, SmtpTransport
from servicekit.settings import ServiceSettings
from testkit.backends import free_port
from testkit.smtp import SmtpSink

USER, PASSWORD = "alerts", "s3cret"


class Settings(ServiceSettings, SmtpSettings):
    """A service's settings with the shared SMTP ones mixed in, as presence's and portal's are."""

    service_name: ClassVar[str] = "mail-test"
    default_port: ClassVar[int] = 0


def check_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@pytest.fixture(scope="module")
def secure_sink():
    """A server that speaks only after STARTTLS and delivers only after AUTH."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1", "localhost").configure_cert(context)
    sink = SmtpSink(
        "127.0.0.1",
        free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=check_login,
        auth_required=True,
        auth_require_tls=True,
    ).start()
    yield sink
    sink.stop()


def mailer(sink: SmtpSink, **transport) -> Mailer:
    options = {"starttls": True, "validate_certs": False, "username": USER, "password": SecretStr(PASSWORD)}
    return Mailer(
        SmtpTransport(host="127.0.0.1", port=sink.port, timeout=5, **{**options, **transport}),
        sender="Assistline <alerts@assistline.local>",
    )


async def test_starttls_and_auth_deliver_the_message_with_its_id(secure_sink):
    await mailer(secure_sink).send(
        Mail(["ana@example.com"], "Subject", "Body 1\n", message_id="<m1@assistline.alerts>")
    )
    mail = await secure_sink.wait_for(lambda m: m["Message-ID"].strip() == "<m1@assistline.alerts>")
    assert mail["To"] == "ana@example.com" and mail.get_content().strip() == "Body 1"


@pytest.mark.parametrize(
    "transport",
    [
        {"starttls": False},  # the server refuses to go on in clear text
        {"password": SecretStr("wrong")},
        {"validate_certs": True},  # the throw-away CA is trusted by no one
    ],
)
async def test_no_tls_wrong_password_or_untrusted_certificate_is_refused(secure_sink, transport):
    with pytest.raises((aiosmtplib.SMTPException, ssl.SSLError)):
        await mailer(secure_sink, **transport).send(Mail(["ana@example.com"], "Subject", "Body", message_id="<m2@x>"))
    assert secure_sink.matching(lambda m: m["Message-ID"].strip() == "<m2@x>") == []


def test_smtp_settings_come_from_upper_case_environment_names(monkeypatch):
    monkeypatch.setenv("SMTP_STARTTLS", "true")
    monkeypatch.setenv("SMTP_USERNAME", USER)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    settings = Settings()
    assert settings.smtp_starttls and not settings.smtp_tls and settings.smtp_validate_certs
    assert settings.smtp_password is not None and settings.smtp_password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(settings)
    with pytest.raises(ValidationError, match="exclude each other"):
        Settings(smtp_tls=True)
    monkeypatch.delenv("SMTP_PASSWORD")
    with pytest.raises(ValidationError, match="go together"):
        Settings()

"""End-to-end fixtures: every service as its own process behind the nginx gateway."""

from dataclasses import replace

import pytest

from testkit.backends import free_port, isolated_vhost
from testkit.smtp import SmtpSink
from testkit.system import System
from testkit.webhooks import WEBHOOK_TEST_ENV


@pytest.fixture(scope="session")
def smtp_sink():
    """The system's SMTP server: e-mail alerts and offline-message e-mails land here."""
    sink = SmtpSink("127.0.0.1", free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
async def system(real_backends, tmp_path_factory, smtp_sink):
    # A vhost and databases of its own: the system's services must not compete with the
    # service suites' instances for the same queues, whatever order the tests run in.
    with isolated_vhost(real_backends.rabbitmq_url, f"assistline-e2e-{real_backends.run_id}") as url:
        backends = replace(real_backends, rabbitmq_url=url, run_id=f"{real_backends.run_id}e2e")
        system = System(
            backends,
            tmp_path_factory.mktemp("system"),
            env={
                "SEED_DEMO": "true",
                "LOG_LEVEL": "WARNING",
                "SMTP_PORT": str(smtp_sink.port),
                # The wrong-code limit's fixed window, twice the default: the rate-limit test
                # must fit its guesses and the right code in one window on a loaded machine.
                "CODE_FAILURE_WINDOW_SECONDS": "120",
                **WEBHOOK_TEST_ENV,
            },
        )
        try:
            await system.start()
            yield system
        finally:
            system.stop()

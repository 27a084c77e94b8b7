import uuid

import httpx
import pytest
from presence_support.helpers import GRACE, HEARTBEAT_TIMEOUT
from presence_support.instance import Presence

from presence_svc.config import Settings
from testkit.amqp import AmqpTap
from testkit.backends import free_port
from testkit.smtp import SmtpSink


@pytest.fixture(scope="session")
def smtp_sink():
    sink = SmtpSink("127.0.0.1", free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def presence_settings(real_backends, smtp_sink) -> Settings:
    return real_backends.settings(
        Settings,
        mongodb_db=f"presence-{uuid.uuid4().hex[:8]}",
        presence_grace_seconds=GRACE,
        heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT,
        smtp_port=smtp_sink.port,
        outbox_sweep_seconds=0.5,
    )


@pytest.fixture(scope="module")
async def presence(real_backends, presence_settings):
    """One presence-svc per test module, on a fresh database. It is a single-instance
    service: it must be gone before anything else of the run consumes its queues."""
    presence = Presence(real_backends.rabbitmq_url, presence_settings)
    await presence.start()
    yield presence
    await presence.stop()


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def tap(real_backends):
    async with AmqpTap(real_backends.rabbitmq_url, "technician.available.*", "technician.unavailable.*") as tap:
        yield tap

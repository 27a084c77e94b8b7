"""chat-svc as its own OS process, the way it runs in production."""

import pytest

from testkit.services import ServiceProcess, wait_ready

pytestmark = pytest.mark.integration


async def test_the_service_process_starts_and_reports_ready(real_backends):
    process = ServiceProcess("chat_svc", real_backends.env("chat-svc"))
    process.start()
    try:
        await wait_ready(process.base_url, "/api/chat/ready")
    finally:
        process.stop()

"""End-to-end fixtures: every service as its own process behind the nginx gateway."""

from dataclasses import replace

import pytest

from testkit.backends import isolated_vhost
from testkit.system import System


@pytest.fixture(scope="session")
async def system(real_backends, tmp_path_factory):
    # A vhost and databases of its own: the system's services must not compete with the
    # service suites' instances for the same queues, whatever order the tests run in.
    with isolated_vhost(real_backends.rabbitmq_url, f"assistline-e2e-{real_backends.run_id}") as url:
        backends = replace(real_backends, rabbitmq_url=url, run_id=f"{real_backends.run_id}e2e")
        system = System(backends, tmp_path_factory.mktemp("system"), env={"SEED_DEMO": "true", "LOG_LEVEL": "WARNING"})
        try:
            await system.start()
            yield system
        finally:
            system.stop()

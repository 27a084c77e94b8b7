"""End-to-end fixtures: every service as its own process behind the nginx gateway."""

import pytest

from testkit.system import System


@pytest.fixture(scope="session")
async def system(real_backends, tmp_path_factory):
    system = System(
        real_backends,
        tmp_path_factory.mktemp("system"),
        env={"SEED_DEMO": "true", "LOG_LEVEL": "WARNING"},
    )
    try:
        await system.start()
        yield system
    finally:
        system.stop()

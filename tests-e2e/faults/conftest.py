"""Fixtures of the fault suite: a private system per module, and the printed counts
(the harness itself is `testkit.faults`).

Fault tests kill and restart processes, drop broker connections and restart the store,
so each module gets a system of its own (`testkit.faults.private_system`): its own RabbitMQ
vhost (nothing it does reaches the queues of the session's shared system, which may be
running at the same time) and, when the run uses the embedded MongoDB-wire server, its own
server too (restarting it must not disturb the other suites). Fresh run id, fresh databases.
"""

import pytest

from testkit.faults import Summary, private_system

SUMMARY = Summary("fault suite")

ENV = {
    "LOG_LEVEL": "ERROR",
    # Every customer comes from 127.0.0.1 here: lift the per-address submission limit.
    "SUBMISSION_LIMIT": "100000",
}


@pytest.fixture(scope="module")
async def fault_system(real_backends, tmp_path_factory):
    async with private_system(real_backends, tmp_path_factory, "faults", dispatch_workers=2, env=ENV) as system:
        yield system


@pytest.fixture
def report(request):
    """Prints a fault test's one-line summary at once and again in the final summary."""
    return SUMMARY.reporter(request)


pytest_terminal_summary = SUMMARY.terminal_summary

"""Fixtures of the replica suite: a private system with two replicas of every service, and
the printed counts (the harness is `testkit.faults` and `testkit.chatstream`).

The leases and grace periods are short (below), so a killed replica's technicians turn
unavailable within seconds and the suite stays quick; the rest runs on the defaults.
"""

import pytest

from testkit.faults import Summary, private_system

SUMMARY = Summary("replica suite")

ENV = {
    "LOG_LEVEL": "WARNING",
    # Every customer comes from 127.0.0.1 here: lift the per-address submission limit.
    "SUBMISSION_LIMIT": "100000",
    # Short enough for a quick suite, long enough that a replica starved of CPU for several
    # seconds (two cores, ten processes and one embedded store) still renews its leases in
    # time: at 4 s each, a loaded run saw live technicians of a healthy replica go unavailable.
    "PRESENCE_LEASE_SECONDS": "8",
    "PRESENCE_GRACE_SECONDS": "6",
    "REPLICA_LEASE_SECONDS": "6",
    "OUTBOX_SWEEP_SECONDS": "0.5",
    # A Queue assignment to a technician whose help center died with its replica (and who
    # never comes back) goes back to the queue this soon, instead of after 30 s.
    "ACCEPT_TIMEOUT_SECONDS": "15",
    "SWEEP_INTERVAL_SECONDS": "2",
}


@pytest.fixture(scope="module")
async def replica_system(real_backends, tmp_path_factory):
    async with private_system(
        # Ten processes start at once on two shared cores: give them time.
        real_backends,
        tmp_path_factory,
        "replicas",
        replicas=2,
        env=ENV,
        ready_timeout=180,
    ) as system:
        yield system


@pytest.fixture
def report(request):
    """Prints a test's one-line counts at once and again in the final summary."""
    return SUMMARY.reporter(request)


pytest_terminal_summary = SUMMARY.terminal_summary

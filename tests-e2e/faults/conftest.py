"""Fixtures of the fault suite: a private system per module, and the printed counts
(the harness itself is `testkit.faults`).

Fault tests kill and restart processes, drop broker connections and restart the store,
so each module gets a system of its own: its own RabbitMQ vhost (nothing it does reaches
the queues of the session's shared system, which may be running at the same time) and,
when the run uses the embedded MongoDB-wire server, its own server too (restarting it
must not disturb the other suites). Fresh run id, fresh databases.
"""

import dataclasses
import uuid
from contextlib import ExitStack

import pytest

from testkit.backends import EmbeddedMongo, isolated_vhost
from testkit.system import System

SUMMARY: list[str] = []

ENV = {
    "LOG_LEVEL": "ERROR",
    # Every customer comes from 127.0.0.1 here: lift the per-address submission limit.
    "SUBMISSION_LIMIT": "100000",
}


@pytest.fixture(scope="module")
async def fault_system(real_backends, tmp_path_factory):
    run_id = f"{real_backends.run_id}f{uuid.uuid4().hex[:6]}"
    with ExitStack() as stack:
        rabbitmq_url = stack.enter_context(isolated_vhost(real_backends.rabbitmq_url, f"assistline-faults-{run_id}"))
        mongo, mongodb_url = None, real_backends.mongodb_url
        if real_backends.embedded_mongo is not None:
            mongo = EmbeddedMongo(tmp_path_factory.mktemp("faults-mongo"))
            mongo.start()
            stack.callback(mongo.stop)
            mongodb_url = mongo.url
        backends = dataclasses.replace(
            real_backends, run_id=run_id, rabbitmq_url=rabbitmq_url, mongodb_url=mongodb_url, embedded_mongo=mongo
        )
        run_dir = tmp_path_factory.mktemp("faults-system")
        system = System(backends, run_dir, dispatch_workers=2, env=ENV)
        stack.callback(system.stop)
        await system.start()
        yield system


@pytest.fixture
def report(request):
    """Prints a fault test's one-line summary at once and again in the final summary."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")

    def say(line: str) -> None:
        SUMMARY.append(line)
        if reporter is not None:
            reporter.write_line("")
            reporter.write_line(line)
        else:
            print(line)

    return say


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("fault suite")
        for line in SUMMARY:
            terminalreporter.write_line(line)

"""Assistline's test toolbox: real backends, service processes, and the helpers every suite
shares (see libs/testkit/README.md). Fixtures come from `testkit.plugin` (root conftest.py)."""

from testkit.http import bearer, client, fresh_address, fresh_source
from testkit.tenants import Tenant, portals_per_mode, provision_tenant, wait_known_to_presence
from testkit.waiting import NotReached, eventually
from testkit.ws import FrameCollector, connect, ws_url

__all__ = [
    "FrameCollector",
    "NotReached",
    "Tenant",
    "bearer",
    "client",
    "connect",
    "eventually",
    "fresh_address",
    "fresh_source",
    "portals_per_mode",
    "provision_tenant",
    "wait_known_to_presence",
    "ws_url",
]

"""The chosen status survives a restart; nobody stays available without reconnecting."""

import pytest
from presence_support.helpers import help_center, known, open_help_center, portal, publish, tech_token, technician, uid

from testkit import bearer

pytestmark = pytest.mark.integration

RESTART_GRACE = 6.0


async def available_technician(presence, client, tap):
    company = uid("cmp")
    await publish(presence.rabbitmq_url, portal(company))
    tech = uid("tec")
    token = tech_token(tech, [company])
    await publish(presence.rabbitmq_url, technician(tech, [company]))
    await known(client, presence.base_url, token)
    await client.put(presence.base_url + "/api/presence/me/status", json={"status": "available"}, headers=bearer(token))
    return tech, token


async def test_after_a_restart_the_choice_is_kept_and_only_reconnected_technicians_stay(presence, client, tap):
    stays, stays_token = await available_technician(presence, client, tap)
    leaves, leaves_token = await available_technician(presence, client, tap)
    tabs = [await open_help_center(presence.base_url, t) for t in (stays_token, leaves_token)]
    for tech in (stays, leaves):
        await tap.wait_for(lambda m, tech=tech: m["data"]["technician_id"] == tech)

    # The module's one-second grace is shorter than closing two sockets and opening one
    # takes on a loaded machine; the rule under test does not depend on its length.
    await presence.restart(presence_grace_seconds=RESTART_GRACE)
    for tab in tabs:
        await tab.close()
    async with help_center(presence.base_url, stays_token) as tab:
        assert tab.of_type("hello")[0]["status"] == "available"
        gone = await tap.wait_for(
            lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == leaves
        )
        assert gone["data"]["reason"] == "disconnected"
        # Both grace periods started together at start-up and ended on the tick that made
        # `leaves` unavailable; one more tick changes nothing for `stays`, who reconnected.
        await presence.handlers.presence.expire_graces()
        assert [m["type"] for m in tap.messages if m["data"]["technician_id"] == stays] == ["TechnicianAvailable"]
        me = await known(client, presence.base_url, leaves_token)
        assert me["status"] == "available" and me["available"] is False

"""The dashboard's live state and its wait / handling figures in a running portal-svc, fed
by events over the real broker: read from the request records and the availability read
model, late and repeated events absorbed, and the summary pushed over the dashboard's
WebSocket."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts import (
    ChatSessionEnded,
    ChatSessionRated,
    ChatSessionStarted,
    Envelope,
    RequestAssigned,
    RequestQueued,
    TechnicianAvailable,
    TechnicianUnavailable,
)
from contracts.vocabulary import ConnectionMode, EndedBy, PortalType, SessionOutcome, UnavailableReason
from testkit import FrameCollector, connect, eventually, ws_url
from testkit.amqp import publish_raw

pytestmark = pytest.mark.integration


async def new_company(portal, admin) -> tuple[dict, str]:
    created = await portal.new_portal(admin, mode="queue", portal_type="smart_box")
    account_id = (await portal.http.get("/api/portal/auth/me", headers=admin)).json()["account_id"]
    return created, account_id


async def submit(portal, subdomain: str) -> str:
    response = await portal.submit(subdomain)
    assert response.status_code in (200, 201, 202), response.text
    return response.json()["request_id"]


def served(account_id: str, company_id: str, request_id: str, technician_id: str = "tec_ana"):
    common = {"request_id": request_id, "account_id": account_id, "company_id": company_id}
    assigned = RequestAssigned(
        **common,
        technician_id=technician_id,
        mode=ConnectionMode.QUEUE,
        portal_type=PortalType.SMART_BOX,
        customer_name="Carla",
        alert=True,
        assigned_at=datetime.now(UTC) + timedelta(seconds=40),
    )
    started = ChatSessionStarted(**common, session_id=f"cht_{request_id}", technician_id=technician_id)
    ended = ChatSessionEnded(
        **common,
        session_id=f"cht_{request_id}",
        technician_id=technician_id,
        ended_by=EndedBy.TECHNICIAN,
        outcome=SessionOutcome.RESOLVED,
    )
    return assigned, started, ended


async def test_live_state_and_wait_and_handling_times_follow_the_events(portal, admin):
    created, account_id = await new_company(portal, admin)
    company_id = created["company_id"]
    url = f"/api/portal/dashboard/companies/{company_id}"
    first, second = await submit(portal, created["subdomain"]), await submit(portal, created["subdomain"])

    async def live(probe):
        async def check():
            view = (await portal.http.get(url, headers=admin)).json()
            return view if probe(view) else None

        return await eventually(check, timeout=20, what="the dashboard's live state")

    view = await live(lambda v: v["live"]["requests_waiting"] == 2)
    assert view["live"]["oldest_wait_seconds"] is not None and view["live"]["chats_active"] == 0

    now = datetime.now(UTC)
    queued = RequestQueued(request_id=first, account_id=account_id, company_id=company_id, position=1, queued_since=now)
    await portal.publish(queued, occurred_at=now)
    assigned, started, ended = served(account_id, company_id, second)
    assigned_event = await portal.publish(assigned, occurred_at=now + timedelta(seconds=40))
    await portal.publish(started, occurred_at=now + timedelta(seconds=41))
    # The company's technicians are those whose record lists it (portal's own, current).
    hired = await portal.http.post(
        "/api/portal/technicians",
        json={
            "name": "Tia",
            "email": f"tia-{uuid.uuid4().hex[:6]}@acme.test",
            "password": "tia-password",
            "company_ids": [company_id],
        },
        headers=admin,
    )
    assert hired.status_code == 201, hired.text
    tia = hired.json()["technician_id"]
    await portal.publish(
        TechnicianAvailable(technician_id=tia, account_id=account_id, company_ids=[company_id], capacity=3, sequence=7)
    )
    # An older availability change arrives late: ignored (presence's sequence decides).
    await portal.publish(
        TechnicianUnavailable(
            technician_id=tia,
            account_id=account_id,
            company_ids=[company_id],
            reason=UnavailableReason.CHOSEN,
            sequence=6,
        )
    )
    view = await live(lambda v: v["live"]["chats_active"] == 1 and v["live"]["technicians"]["available"] == 1)
    assert view["live"]["requests_waiting"] == 1 and view["live"]["technicians_in_chat"] == 1
    assert view["today"]["answered"] == 1 and view["today"]["median_wait_seconds"] >= 40

    await portal.publish(ended, occurred_at=now + timedelta(seconds=341))
    # The chat's end arrived; the assignment delivered again must not bring the request back.
    body = assigned_event.model_dump_json().encode()
    await publish_raw(portal.rabbitmq_url, assigned.routing_key(), body, message_id=str(assigned_event.event_id))
    # The barrier: a later assignment on the same queue, consumed after the redelivered one.
    await portal.publish(served(account_id, company_id, first, "tec_ben")[0])
    view = await live(lambda v: v["today"]["answered"] >= 2 and v["today"]["median_handling_seconds"])
    assert 299 <= view["today"]["median_handling_seconds"] <= 301
    assert view["today"]["answered"] == 2  # the redelivered assignment counted nothing
    # The first is assigned (still waiting for its chat); the second did not come back.
    assert (view["live"]["requests_waiting"], view["live"]["chats_active"]) == (1, 0)

    # Nothing but the day bucket is stored for the dashboard: the tiles are the records'.
    stored = await portal.runtime.db["dashboard_days"].count_documents({"company_id": company_id})
    assert stored == 1


async def test_the_dashboard_socket_pushes_each_change(portal, admin, admin_token):
    created, _account_id = await new_company(portal, admin)
    company_id = created["company_id"]
    socket_url = ws_url(portal.base_url, f"/api/portal/dashboard/ws?company_id={company_id}")
    async with FrameCollector(await connect(socket_url, admin_token)) as frames:
        first = await frames.wait_for(lambda f: f["type"] == "summary")
        assert first["summary"]["company_id"] == company_id and first["summary"]["live"]["requests_waiting"] == 0
        await submit(portal, created["subdomain"])
        pushed = await frames.wait_for(lambda f: f["summary"]["live"]["requests_waiting"] == 1)
        assert pushed["summary"]["today"]["requests"] == 1

    # Another account's company, a technician's token, no company: refused with a reason.
    ana = await portal.login("ana@acme.test")
    for token, query in ((admin_token, "cmp_nope"), (ana, company_id), (admin_token, "bad%20id")):
        refused = FrameCollector(
            await connect(ws_url(portal.base_url, f"/api/portal/dashboard/ws?company_id={query}"), token)
        )
        async with refused:
            code, _reason = await refused.wait_closed()
            assert code == 1008 and not refused.frames


async def test_a_supervisor_reads_the_dashboard_only_and_removal_is_immediate(portal, admin):
    created, _account_id = await new_company(portal, admin)
    company_id = created["company_id"]
    email = f"sup-{uuid.uuid4().hex[:8]}@acme.test"
    made = await portal.http.post(
        "/api/portal/supervisors", json={"name": "Sam Super", "email": email, "password": "super-secret"}, headers=admin
    )
    assert made.status_code == 201, made.text
    supervisor_id = made.json()["supervisor_id"]
    listed = (await portal.http.get("/api/portal/supervisors", headers=admin)).json()
    assert supervisor_id in [s["supervisor_id"] for s in listed]
    taken = await portal.http.post(
        "/api/portal/supervisors", json={"name": "Again", "email": email, "password": "super-secret"}, headers=admin
    )
    assert taken.status_code == 409 and taken.json()["message"]

    signed_in = await portal.sign_in(email, "super-secret")
    assert signed_in["role"] == "supervisor"
    supervisor = {"Authorization": f"Bearer {signed_in['token']}"}
    companies = (await portal.http.get("/api/portal/dashboard/companies", headers=supervisor)).json()
    assert company_id in [c["company_id"] for c in companies]
    seen = await portal.http.get(f"/api/portal/dashboard/companies/{company_id}", headers=supervisor)
    assert seen.status_code == 200 and seen.json()["company_id"] == company_id
    assert (
        await portal.http.get(f"/api/portal/dashboard/companies/{company_id}.csv", headers=supervisor)
    ).status_code == 200
    assert (await portal.http.get("/api/portal/dashboard/companies/cmp_nope", headers=supervisor)).status_code == 404

    # Every other API refuses them, as a JSON sentence.
    for method, path in (
        ("GET", "/api/portal/companies"),
        ("GET", "/api/portal/technicians"),
        ("POST", "/api/portal/companies"),
        ("GET", "/api/portal/supervisors"),
        ("GET", "/api/portal/portals"),
        ("GET", "/api/portal/auth/me"),
        ("GET", "/api/portal/messages"),
    ):
        refused = await portal.http.request(
            method, path, headers=supervisor, json={"name": "X"} if method == "POST" else None
        )
        assert refused.status_code == 403, (path, refused.text)
        assert refused.headers["content-type"].startswith("application/json") and refused.json()["message"]
    # A supervisor cannot manage supervisors either.
    assert (await portal.http.delete(f"/api/portal/supervisors/{supervisor_id}", headers=supervisor)).status_code == 403

    socket_url = ws_url(portal.base_url, f"/api/portal/dashboard/ws?company_id={company_id}")
    async with FrameCollector(await connect(socket_url, signed_in["token"])) as frames:
        await frames.wait_for(lambda f: f["type"] == "summary")
        removed = await portal.http.delete(f"/api/portal/supervisors/{supervisor_id}", headers=admin)
        assert removed.status_code == 200 and removed.json()["enabled"] is False
        # At once: the open dashboard closes, the still-valid access token reads nothing more.
        code, reason = await frames.wait_closed(timeout=20)
        assert (code, reason) == (1008, "access removed")
        gone = await portal.http.get(f"/api/portal/dashboard/companies/{company_id}", headers=supervisor)
        assert gone.status_code == 401 and gone.json()["message"]
    refused = await portal.http.post(
        "/api/portal/auth/login", json={"email": email, "password": "super-secret"}, headers=portal.client_ip()
    )
    assert refused.status_code == 401
    refreshed = await portal.http.post(
        "/api/portal/auth/refresh", json={"refresh_token": signed_in["refresh_token"]}, headers=portal.client_ip()
    )
    assert refreshed.status_code == 401
    assert supervisor_id not in [
        s["supervisor_id"] for s in (await portal.http.get("/api/portal/supervisors", headers=admin)).json()
    ]


async def test_a_change_consumed_by_one_replica_reaches_a_dashboard_held_by_another(start_portal):
    shared = {"mongodb_db": f"portal-dash-replicas-{uuid.uuid4().hex[:8]}"}
    async with start_portal(**shared) as first, start_portal(**shared) as second:
        token = await second.login("admin@acme.test")
        socket_url = ws_url(second.base_url, "/api/portal/dashboard/ws?company_id=cmp_globex")
        async with FrameCollector(await connect(socket_url, token)) as frames:
            await frames.wait_for(lambda f: f["type"] == "summary")
            rating = ChatSessionRated(
                session_id="cht_r",
                request_id="req_r",
                account_id="acc_acme",
                company_id="cmp_globex",
                technician_id="tec_ana",
                score=4,
                rated_at=datetime.now(UTC),
            )
            # The first replica absorbs it, as its consumer would; the second's socket hears of it.
            event = Envelope[ChatSessionRated].of(rating, producer="chat-svc", correlation_id="req_r")
            assert await first.handlers.dashboard.rated(event) is True
            pushed = await frames.wait_for(lambda f: f["summary"]["today"]["ratings"] == 1)
            assert pushed["summary"]["today"]["average_rating"] == 4.0

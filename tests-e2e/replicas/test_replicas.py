"""The whole system on two replicas of every service, behind the gateway.

Where a socket lives is chosen by the test: a first connection goes straight to one
replica's own port, so "the customer is on chat-svc #0 and the technician on #1" is a fact,
not a hope. Reconnections go through the gateway, as the browser's would, and can only land
on the surviving replica.

Each kill scenario runs the same loop as the fault suite (customers submitting on a Web and a
Queue portal, technicians accepting and chatting briefly, the ledger of the bus) plus one
long conversation whose two sides sit on different chat replicas, kills replica #0 of one
service with SIGKILL in the middle, settles with that replica still down, checks, and only
then starts the replica again for the next scenario.
"""

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from testkit.actors import ChatSocket, Customer, HelpCenter, Staff
from testkit.chatstream import Conversation, ResilientChat
from testkit.faults import (
    PASSWORD,
    Customers,
    DurableTap,
    Ledger,
    Technician,
    Workforce,
    consumed,
    provision,
    settle,
)
from testkit.tenants import wait_known_to_presence
from testkit.waiting import eventually

# The first test also waits for ten processes to start; each kill scenario restarts one.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]

AVAILABILITY = ("TechnicianAvailable", "TechnicianUnavailable")


def replica_urls(system, service: str) -> list[str]:
    urls = [process.base_url for process in system.processes[service]]
    assert len(set(urls)) == 2, f"{service} should run on two replicas: {urls}"
    return urls


def availability_of(tap: DurableTap, technician_id: str) -> list[str]:
    return [
        m["type"] for m in tap.messages if m["type"] in AVAILABILITY and m["data"]["technician_id"] == technician_id
    ]


def tag() -> str:
    return uuid.uuid4().hex[:8]


# Sockets on different replicas ------------------------------------------------------------


async def test_chat_and_alerts_across_replicas(replica_system, report):
    system = replica_system
    gateway = system.gateway_url
    presence, chat = replica_urls(system, "presence-svc"), replica_urls(system, "chat-svc")
    tenant = await provision(gateway, tag(), modes={"web": 1, "queue": 1}, technicians=2, capacity=2)
    (web_portal, _), (queue_portal, _) = tenant.portals_of_mode("web")[0], tenant.portals_of_mode("queue")[0]
    staff = [Staff(gateway, login, "", PASSWORD) for login in tenant.logins]
    ids = [person.id for person in staff]
    customers = [Customer(gateway, web_portal), Customer(gateway, queue_portal), Customer(gateway, queue_portal)]
    rabbitmq = system.backends.rabbitmq_url
    try:
        async with DurableTap(rabbitmq, "request.*.*", "technician.*.*", on_event=lambda _: None) as tap:
            for person in staff:
                await wait_known_to_presence(gateway, person.token)
            # Technician 0's help center on presence #0, technician 1's on presence #1.
            async with (
                HelpCenter(staff[0], base_url=presence[0]) as on_0,
                HelpCenter(staff[1], base_url=presence[1]) as on_1,
            ):
                centers = {ids[0]: on_0, ids[1]: on_1}
                for center in centers.values():
                    await center.set_status("available")
                for technician_id in ids:
                    await tap_wait(tap, "TechnicianAvailable", technician_id=technician_id)
                await consumed(rabbitmq)  # dispatch-svc has absorbed both availabilities

                # Web: the offer reaches both help centers, one on each replica; the loser's is withdrawn.
                web = customers[0]
                assert (await web.submit()).status_code == 201
                offer = await tap_wait(tap, "RequestOffered", request_id=web.request_id)
                assert sorted(offer["data"]["technician_ids"]) == sorted(ids)
                for center in centers.values():
                    await center.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == web.request_id)
                accepted = await staff[1].http.post(f"/api/dispatch/requests/{web.request_id}/accept")
                assert accepted.status_code == 200, accepted.text
                await on_0.wait_for(lambda f: f["type"] == "alert_withdrawn" and f["request_id"] == web.request_id)
                await web.wait_status("chat_open", timeout=30)

                # Queue: two requests, round robin, one to each technician — each alert on its replica.
                assignees = {}
                for customer in customers[1:]:
                    assert (await customer.submit()).status_code == 201
                    assigned = await tap_wait(tap, "RequestAssigned", request_id=customer.request_id)
                    technician_id = assigned["data"]["technician_id"]
                    assignees[customer.request_id] = technician_id
                    await centers[technician_id].wait_for(
                        lambda f, r=customer.request_id: f["type"] == "alert" and f["request_id"] == r
                    )
                    acked = await staff[ids.index(technician_id)].http.post(
                        f"/api/dispatch/requests/{customer.request_id}/accept"
                    )
                    assert acked.status_code == 200, acked.text
                assert sorted(assignees.values()) == sorted(ids), f"round robin should reach both: {assignees}"

            # The chat of the first Queue request: customer on chat #0, technician on chat #1.
            customer = customers[1]
            session_id = (await customer.wait_status("chat_open", timeout=30))["session_id"]
            technician = staff[ids.index(assignees[customer.request_id])]
            lines = [
                "My screen stays black",
                "Did you try restarting?",
                "Yes, twice",
                "Hold the power button ten seconds",
                "It works now",
                "Glad to hear it",
            ]
            async with (
                ChatSocket(chat[0], session_id, customer.token) as customer_chat,
                ChatSocket(chat[1], session_id, technician.token) as technician_chat,
            ):
                # The technician joined on #1: the system message reaches the customer on #0 too.
                for side in (customer_chat, technician_chat):
                    await side.wait_for(lambda f: f["type"] == "message" and "joined the chat" in f["text"])
                for index, text in enumerate(lines):
                    speaker, listener = (
                        (customer_chat, technician_chat) if index % 2 == 0 else (technician_chat, customer_chat)
                    )
                    await speaker.say(text)
                    await listener.wait_for(lambda f, text=text: f.get("text") == text)
                # Typing, both ways.
                await customer_chat.send({"type": "typing"})
                await technician_chat.wait_for(lambda f: f["type"] == "typing" and f["author"] == "customer")
                await technician_chat.send({"type": "typing"})
                await customer_chat.wait_for(lambda f: f["type"] == "typing" and f["author"] == "technician")
                # Ended over HTTP through the gateway: both replicas' sockets get the notice.
                ended = await technician.http.post(f"/api/chat/sessions/{session_id}/end", json={"outcome": "resolved"})
                assert ended.status_code == 200, ended.text
                for side in (customer_chat, technician_chat):
                    await side.wait_for(
                        lambda f: f["type"] == "message" and f["text"] == "The technician ended the chat."
                    )
                    await side.wait_closed()
            for side in (customer_chat, technician_chat):
                assert side.texts() == lines  # in order, nothing twice
                ids_seen = [f["id"] for f in side.of_type("message")]
                seqs = [f["seq"] for f in side.of_type("message")]
                assert len(ids_seen) == len(set(ids_seen)) and seqs == sorted(set(seqs)), seqs
                system_lines = [f["text"] for f in side.of_type("message") if f["author"] == "system"]
                assert any("joined the chat" in t for t in system_lines) and system_lines[-1].endswith(
                    "ended the chat."
                )
    finally:
        for person in staff:
            await person.close()
        for customer in customers:
            await customer.close()
    report(
        f"replicas: sockets on different replicas — customer on chat-svc #0, technician on #1: "
        f"{len(lines)}/{len(lines)} messages in order on both sides, typing both ways, system messages "
        f"(joined, ended) on both; Web offer alerted on presence #0 and #1 (loser's withdrawn), "
        f"Queue assignments alerted on each replica ({len(assignees)}/{len(assignees)})"
    )


async def test_the_clicks_on_one_request_reach_one_dispatch_replica(replica_system):
    """Every technician offered a Web request clicks at once: the gateway sends all the clicks
    on one request (accept, transfer, invitation) to one dispatch replica, chosen by the
    request's id, where they are settled one at a time without racing another replica for the
    same document; requests still spread over both replicas."""
    system = replica_system
    dispatch = {url.split("//", 1)[1] for url in replica_urls(system, "dispatch-svc")}
    ids = [f"route-{tag()}" for _ in range(16)]
    paths = [f"/api/dispatch/requests/{i}/{action}" for i in ids for action in ("accept", "transfer/accept", "leave")]
    async with httpx.AsyncClient(base_url=system.gateway_url) as client:
        for _ in range(3):
            for path in paths:
                refused = await client.post(path)  # no token: the replica itself says 401
                assert refused.status_code == 401 and refused.json()["error"], refused.text

    def logged() -> list[dict]:
        lines = [json.loads(line) for line in system.gateway_log.read_text().splitlines() if line.startswith("{")]
        return [line for line in lines if line["path"] in paths]

    await eventually(lambda: len(logged()) == 3 * len(paths), what="the gateway logged every click")
    by_request: dict[str, set[str]] = {}
    for line in logged():
        by_request.setdefault(line["path"].split("/")[4], set()).add(line["upstream"])
    assert all(len(replicas) == 1 for replicas in by_request.values()), by_request
    assert set().union(*by_request.values()) == dispatch, "requests should spread over both replicas"


async def tap_wait(tap: DurableTap, event_type: str, timeout: float = 30.0, **data):
    deadline = time.monotonic() + timeout
    while not tap.of_type(event_type, **data):
        assert time.monotonic() < deadline, f"no {event_type} {data} within {timeout}s"
        await asyncio.sleep(0.1)
    return tap.of_type(event_type, **data)[0]


# kill -9 of one replica of each service ---------------------------------------------------

REQUESTS = 24
RATE = 4.0
KILL_AFTER = 2.0
TECHNICIANS = 6
GONE = 4
"""When presence #0 dies, technician 4 (on it) never comes back; 0 and 2 reconnect."""


async def conversation(gateway: str, chat: list[str], tenant) -> tuple[Conversation, Technician, Customer]:
    """A session of its own (a tenant with one technician) whose customer sits on chat #0
    and technician on chat #1."""
    subdomain, _ = tenant.portals_of_mode("queue")[0]
    technician = Technician(gateway, tenant.logins[0], chat_seconds=0)
    customer = Customer(gateway, subdomain)
    await technician.start()
    assert (await customer.submit()).status_code == 201
    session_id = (await customer.wait_status("chat_open", timeout=30))["session_id"]
    talk = Conversation(
        await ResilientChat(gateway, session_id, customer.token, first_url=chat[0]).start(),
        await ResilientChat(gateway, session_id, technician.token, first_url=chat[1]).start(),
    )
    return talk, technician, customer


@pytest.mark.parametrize("service", ["portal-svc", "presence-svc", "dispatch-svc", "chat-svc"])
async def test_kill_one_replica_mid_flow(replica_system, report, service):
    system = replica_system
    gateway = system.gateway_url
    presence, chat = replica_urls(system, "presence-svc"), replica_urls(system, "chat-svc")
    tenant, talk_tenant = await asyncio.gather(
        provision(gateway, tag(), modes={"queue": 1, "web": 1}, technicians=TECHNICIANS, capacity=3),
        provision(gateway, tag(), modes={"queue": 1}, technicians=1, capacity=1),
    )
    presence_killed = service == "presence-svc"
    lease = float(system.extra_env["PRESENCE_LEASE_SECONDS"])
    grace = float(system.extra_env["PRESENCE_GRACE_SECONDS"])

    def placement(index: int) -> dict:
        # Even technicians on presence #0, odd ones on #1.
        return {
            "presence_url": presence[index % 2],
            "reconnect": not (presence_killed and index == GONE),
            # Served once alerted, as a person would: a lost alert shows as a lapsed assignment.
            "alerted_only": True,
        }

    ledger = Ledger(capacity=tenant.capacity)
    customers = Customers(gateway, tenant, ["queue", "web"])
    workforce = Workforce(gateway, tenant, ledger, placement=placement)
    technicians = list(workforce.technicians.values())
    talk = talker = talk_customer = None
    victim = system.service(service, 0)
    try:
        async with DurableTap(system.backends.rabbitmq_url, "#", on_event=ledger.on_event) as tap:
            await workforce.start()
            for technician in technicians:
                await asyncio.wait_for(technician.connected.wait(), 30)
                await tap_wait(tap, "TechnicianAvailable", technician_id=technician.id)
            talk, talker, talk_customer = await conversation(gateway, chat, talk_tenant)
            started = time.monotonic()
            load = asyncio.create_task(customers.arrive(REQUESTS, rate=RATE))
            talking = asyncio.create_task(talk.talk(REQUESTS))
            await asyncio.sleep(KILL_AFTER)
            victim.kill()
            killed_at = datetime.now(UTC)
            await load
            await talking
            await talk.delivered()
            gone_after = None
            if presence_killed:
                gone = technicians[GONE]
                unavailable = await tap_wait(tap, "TechnicianUnavailable", technician_id=gone.id, timeout=60)
                gone_after = (datetime.fromisoformat(unavailable["occurred_at"]) - killed_at).total_seconds()
                assert unavailable["data"]["reason"] == "disconnected"
            # Settled by the survivors alone: the killed replica stays down until the checks are done.
            verdict = await settle(
                f"{service.removesuffix('-svc')} #0 kill -9",
                system,
                tenant,
                ledger,
                customers,
                started,
                running_only=True,
            )
            await consumed(system.backends.rabbitmq_url)  # the barrier before "no flap", "no other event"
            flaps = {
                f"#{i} {t.id} (help center on presence #{i % 2}, {t.help_center_connections} connection(s))": [
                    f"{m['type']} {m['data'].get('reason', '')} at {m['occurred_at']}"
                    for m in tap.messages
                    if m["type"] in AVAILABILITY and m["data"]["technician_id"] == t.id
                ]
                for i, t in enumerate(technicians)
                if availability_of(tap, t.id)
                != list(AVAILABILITY if presence_killed and i == GONE else AVAILABILITY[:1])
            }
            unalerted = sorted(
                f"{m['data']['request_id']}#{m['data']['assignment']} → technician "
                f"#{list(workforce.technicians).index(m['data']['technician_id'])} at {m['occurred_at']}"
                for m in tap.of_type("RequestAssigned")
                if m["data"].get("alert")  # assignments the technician must be alerted to (Queue)
                and m["data"]["technician_id"] in workforce.technicians
                and workforce.technicians[m["data"]["technician_id"]].reconnect
                and m["data"]["request_id"] not in workforce.technicians[m["data"]["technician_id"]].alerts
            )
            moved = [t for i, t in enumerate(technicians) if i % 2 == 0 and t.reconnect]
            reconnected = sum(t.help_center_connections > 1 for t in moved)
            flapped = [t for t in technicians if availability_of(tap, t.id) != ["TechnicianAvailable"]]
            chat_counts = talk.summary()
    finally:
        await workforce.close()
        await customers.close()
        for closable in (talk, talker, talk_customer):
            if closable is not None:
                await closable.close()
        if not victim.running:
            await system.restart(service, 0)

    extra = (
        f"conversation across chat #0/#1: {chat_counts['said']} said, {chat_counts['lost']} lost, "
        f"{chat_counts['duplicated']} duplicated, {chat_counts['out_of_order']} out of order, "
        f"{chat_counts['reconnects']} socket(s) reconnected; {len(unalerted)} Queue alerts missed; "
        f"{len(flaps)} availability flaps"
    )
    if presence_killed:
        extra += (
            f"; help centers on #0: {reconnected}/{len(moved)} reconnected through the gateway "
            f"({sum(t in flapped for t in moved)} flapped), 1 gone turned unavailable {gone_after:.1f}s after "
            f"the kill (lease {lease:g}s + grace {grace:g}s), "
            f"{sum(t not in flapped for i, t in enumerate(technicians) if i % 2)}/{len(technicians) // 2} on #1 "
            "stayed available"
        )
    verdict.extra = extra
    report(verdict.line("replicas"))
    verdict.assert_sound()
    assert chat_counts["lost"] == chat_counts["duplicated"] == chat_counts["out_of_order"] == 0, chat_counts
    assert not flaps, f"availability changed where it should not have: {flaps}"
    assert not unalerted, f"Queue assignments whose alert never reached the technician: {unalerted}"
    if service == "chat-svc":
        # The customer's socket died with chat #0 and came back (through the gateway); the technician's never dropped.
        assert talk.customer.connections >= 2 and talk.technician.connections == 1
    if presence_killed:
        assert reconnected == len(moved)
        # The lease ran out (renewed every third of it, so at least 2/3 of it), then the grace.
        assert grace <= gone_after <= lease + grace + 20, gone_after

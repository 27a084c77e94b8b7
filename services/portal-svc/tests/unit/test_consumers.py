"""Every consumed event type reaches its handler method (FastStream's in-memory broker: no
RabbitMQ, no MongoDB; the handlers are recording stand-ins)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.rabbit import TestRabbitBroker

from contracts import (
    ChatSessionEnded,
    ChatSessionStarted,
    Envelope,
    EventPayload,
    OfflineMessageAnswered,
    OfflineMessageLeft,
    RequestAssigned,
    RequestOffered,
    RequestQueued,
    RequestRejected,
    TechnicianAvailable,
    TechnicianUnavailable,
    TechnicianUpdated,
    WebhookEndpointDisabled,
)
from portal_svc.entrypoints import consumers
from servicekit.broker import EVENTS, make_broker

NOW = datetime.now(UTC)
EVENTS_AND_CALLS: list[tuple[EventPayload, str]] = [
    (
        TechnicianUpdated(
            technician_id="tec_a",
            account_id="acc_a",
            display_name="A",
            company_ids=["cmp_x"],
            capacity=2,
            enabled=True,
            revision=2,
        ),
        "availability.technician_updated",
    ),
    (
        TechnicianAvailable(technician_id="tec_a", account_id="acc_a", company_ids=["cmp_x"], capacity=2, sequence=3),
        "availability.technician_available",
    ),
    (
        TechnicianUnavailable(technician_id="tec_a", account_id="acc_a", company_ids=[], reason="chosen", sequence=4),
        "availability.technician_unavailable",
    ),
    (
        RequestQueued(request_id="req_a", account_id="acc_a", company_id="cmp_x", position=1, queued_since=NOW),
        "request_status.queued",
    ),
    (
        RequestOffered(
            request_id="req_a",
            account_id="acc_a",
            company_id="cmp_x",
            technician_ids=["tec_a"],
            portal_type="smart_box",
            customer_name="C",
            expires_at=NOW,
        ),
        "request_status.offered",
    ),
    (
        RequestAssigned(
            request_id="req_a",
            account_id="acc_a",
            company_id="cmp_x",
            technician_id="tec_a",
            mode="queue",
            portal_type="smart_box",
            customer_name="C",
            alert=True,
            assigned_at=NOW,
        ),
        "request_status.assigned",
    ),
    (
        RequestRejected(
            request_id="req_a", account_id="acc_a", company_id="cmp_x", reason="invalid_code", message="no"
        ),
        "request_status.rejected",
    ),
    (
        ChatSessionStarted(
            session_id="cht_a", request_id="req_a", account_id="acc_a", company_id="cmp_x", technician_id="tec_a"
        ),
        "request_status.chat_started",
    ),
    (
        ChatSessionEnded(
            session_id="cht_a",
            request_id="req_a",
            account_id="acc_a",
            company_id="cmp_x",
            technician_id="tec_a",
            ended_by="technician",
            outcome="resolved",
        ),
        "request_status.chat_ended",
    ),
    (
        OfflineMessageLeft(
            message_id="msg_a", account_id="acc_a", company_id="cmp_x", portal_id="prt_a", reason="closed", left_at=NOW
        ),
        "messages.notify_technicians",
    ),
    (
        OfflineMessageAnswered(
            message_id="msg_a", account_id="acc_a", company_id="cmp_x", technician_id="tec_a", answered_at=NOW
        ),
        "messages.send_answer",
    ),
    (
        WebhookEndpointDisabled(
            endpoint_id="whe_a",
            account_id="acc_a",
            url="https://crm.example.com/hooks",
            consecutive_failures=20,
            failing_since=NOW,
            last_error="HTTP 500",
        ),
        "webhook_alerts.endpoint_disabled",
    ),
]


# The dashboard's read models follow the same events, after the handler above (the envelope,
# and for a request's move what the move returned).
DASHBOARD_TOO = {
    "availability.technician_available": "dashboard.technician_changed",
    "availability.technician_unavailable": "dashboard.technician_changed",
    **{f"request_status.{m}": "dashboard.moved" for m in ("queued", "offered", "assigned", "chat_started")},
    **{f"request_status.{m}": "dashboard.finished" for m in ("rejected", "chat_ended")},
}
MOVED = {"_id": "req_a", "status": "moved"}


class Recorder:
    def __init__(self, name: str, calls: list[tuple[str, Any]]) -> None:
        self._name = name
        self._calls = calls

    def __getattr__(self, method: str):
        async def record(argument: Any, *more: Any) -> Any:
            self._calls.append((f"{self._name}.{method}", (argument, *more) if more else argument))
            return MOVED if self._name == "request_status" else True

        return record


class StandIn:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.availability = Recorder("availability", self.calls)
        self.request_status = Recorder("request_status", self.calls)
        self.messages = Recorder("messages", self.calls)
        self.webhook_alerts = Recorder("webhook_alerts", self.calls)
        self.dashboard = Recorder("dashboard", self.calls)


@pytest.mark.parametrize(("payload", "call"), EVENTS_AND_CALLS, ids=[c for _, c in EVENTS_AND_CALLS])
async def test_each_event_reaches_its_handler(payload: EventPayload, call: str):
    broker = make_broker("amqp://guest:guest@127.0.0.1:1/", service="portal-svc")
    handlers = StandIn()
    consumers.register(broker, "portal-svc", handlers)  # type: ignore[arg-type]
    event: Envelope[Any] = Envelope[type(payload)].of(payload, producer="test", correlation_id="c")  # type: ignore[misc]
    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish(event.model_dump(mode="json"), exchange=EVENTS, routing_key=payload.routing_key())
    # A presence change also tells the waiting customers of each company it concerns.
    told = [argument for name, argument in handlers.calls if name == "request_status.changed"]
    assert told == (
        payload.company_ids
        if call.startswith("availability.technician_") and call != "availability.technician_updated"
        else []
    )  # type: ignore[attr-defined]
    also = [DASHBOARD_TOO[call]] if call in DASHBOARD_TOO else []
    assert [name for name, _ in handlers.calls if name != "request_status.changed"] == [call, *also]
    moves = ("dashboard.moved", "dashboard.finished")
    assert all(
        argument == event for name, argument in handlers.calls if name.startswith("dashboard.") and name not in moves
    )
    assert all(argument == (event, MOVED) for name, argument in handlers.calls if name in moves)
    received = handlers.calls[0][1]
    # Presence and record events hand over the payload; request moves need the envelope's id and time.
    assert received == (payload if call.startswith("availability") else event)

"""webhook-svc disabled an endpoint: every admin of that account gets one e-mail saying which,
why and where to enable it again; nobody else does, and a redelivered event sends nothing."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts import WebhookEndpointDisabled, new_id
from testkit import eventually
from testkit.amqp import publish_raw

pytestmark = pytest.mark.integration


async def sign_up(portal, name: str) -> tuple[str, str]:
    """A fresh account through the public API; (account id, its admin's e-mail)."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@hooks.test"
    body = {"account_name": f"{name} Ltd", "admin_name": name, "admin_email": email, "admin_password": "password-x"}
    response = await portal.http.post("/api/portal/accounts", json=body, headers=portal.client_ip())
    assert response.status_code == 201, response.text
    return response.json()["account_id"], email


def acked(portal) -> float:
    labels = {"event_type": "WebhookEndpointDisabled", "outcome": "ack"}
    return portal.runtime.metrics.registry.get_sample_value("assistline_events_consumed_total", labels) or 0.0


async def test_every_admin_of_the_account_is_mailed_once(portal, smtp_sink):
    account_id, first_admin = await sign_up(portal, "Hook")
    _, stranger = await sign_up(portal, "Other")
    # The API has one admin per sign-up; a second one of the same account is stored as sign-up does.
    second_admin = f"second-{uuid.uuid4().hex[:6]}@hooks.test"
    await portal.runtime.db["users"].insert_one(
        {
            "_id": new_id("adm"),
            "account_id": account_id,
            "role": "admin",
            "email": second_admin,
            "name": "Second",
            "password_hash": "x",
            "enabled": True,
            "revision": 1,
        }
    )
    since = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    disabled = WebhookEndpointDisabled(
        endpoint_id=new_id("whe"),
        account_id=account_id,
        url="https://crm.example.com/hooks/assistline",
        consecutive_failures=37,
        failing_since=since,
        last_error="HTTP 503",
    )
    event = await portal.publish(disabled, occurred_at=since + timedelta(hours=6))

    def mails_of_event():
        return smtp_sink.matching(lambda m: str(event.event_id) in str(m["Message-ID"]))

    await eventually(lambda: len(mails_of_event()) >= 2, timeout=20, what="both admins mailed")
    mails = mails_of_event()
    assert sorted(str(m["To"]) for m in mails) == sorted([first_admin, second_admin])
    mail = mails[0]
    assert "https://crm.example.com/hooks/assistline" in str(mail["Subject"])
    body = mail.get_content()
    for detail in ("https://crm.example.com/hooks/assistline", "37", "2026-03-04 05:06 UTC", "HTTP 503"):
        assert detail in body
    assert "http://support.test:8080/admin" in body and "Webhooks" in body
    assert not smtp_sink.matching(lambda m: stranger in str(m["To"]))

    # The same event again (a redelivery): consumed, and nobody is mailed twice.
    before = acked(portal)
    await publish_raw(
        portal.rabbitmq_url, disabled.routing_key(), event.model_dump_json().encode(), message_id=str(event.event_id)
    )
    await eventually(lambda: acked(portal) > before, timeout=20, what="the redelivery consumed")
    assert len(mails_of_event()) == 2

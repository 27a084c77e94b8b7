"""The e-mail to an account's admins when webhook-svc disabled one of their endpoints.

webhook-svc knows the endpoint but not the people; portal-svc knows the admins and already
sends mail, so it follows `WebhookEndpointDisabled`. One e-mail per admin and event id (a
marker set after each is sent): a redelivery sends nothing to whoever was already told, and
a crash between sending and marking sends that one again with the same Message-ID, which
the receiving side can recognise.
"""

from datetime import UTC
from typing import Any

from contracts import Envelope, WebhookEndpointDisabled
from portal_svc.adapters.markers import MarkerRepository
from portal_svc.adapters.users import UserRepository
from servicekit.auth import Role
from servicekit.logging import get_logger
from servicekit.mailer import Mail, Mailer

log = get_logger(__name__)


def disabled_mail(event: Envelope[WebhookEndpointDisabled], admin: dict[str, Any], console_url: str) -> Mail:
    data = event.data
    failing_since = data.failing_since if data.failing_since.tzinfo is None else data.failing_since.astimezone(UTC)
    since = failing_since.strftime("%Y-%m-%d %H:%M UTC")
    return Mail(
        recipients=[admin["email"]],
        subject=f"Webhook endpoint disabled after {data.consecutive_failures} failed deliveries: {data.url}",
        body=(
            f"Hello {admin.get('name') or admin['email']},\n\n"
            f"Assistline stopped sending events to your webhook endpoint\n\n  {data.url}\n\n"
            f"because its last {data.consecutive_failures} delivery attempts in a row failed, "
            f"failing since {since}.\n"
            f"The last attempt got: {data.last_error or 'no answer'}\n\n"
            "Its queued deliveries were given up, and events that happen while it is disabled are "
            "not sent to it. Fix the receiver, then enable the endpoint again in the admin console, "
            f"Webhooks tab: {console_url} — given-up deliveries can be sent again from its delivery log.\n"
        ),
        message_id=f"<{event.event_id}.{admin['_id']}.webhook-disabled@assistline>",
    )


class WebhookAlerts:
    def __init__(self, users: UserRepository, markers: MarkerRepository, mailer: Mailer, *, public_base_url: str):
        self._users = users
        self._markers = markers
        self._mailer = mailer
        self._console_url = public_base_url.rstrip("/") + "/admin"

    async def endpoint_disabled(self, event: Envelope[WebhookEndpointDisabled]) -> int:
        """Mails every current admin of the endpoint's account not told yet; how many."""
        admins = await self._users.of_account(event.data.account_id, Role.ADMIN.value)
        told = 0
        for admin in admins:
            marker = f"webhook-disabled:{event.event_id}:{admin['_id']}"
            if not admin.get("enabled", True) or await self._markers.is_set(marker):
                continue
            await self._mailer.send(disabled_mail(event, admin, self._console_url))
            await self._markers.set(marker)
            told += 1
        log.info("webhook endpoint disabled: admins told", endpoint_id=event.data.endpoint_id, admins=told)
        return told

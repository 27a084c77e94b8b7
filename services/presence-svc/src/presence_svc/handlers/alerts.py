"""Alert use cases (the HelpAlert role): deliver over the WebSocket and by e-mail, withdraw.

An alert is recorded before it is delivered, so a redelivered event finds it and stays
silent (at most one alert per offer) and a help center that connects later gets the open
alerts replayed. Who may get an alert is decided by presence's own current record of the
technician (fed by TechnicianUpdated), never by a token.

E-mails are at least once: the pending e-mail is recorded in the very write that opens the
alert, sent in the background (a slow or absent SMTP server must not hold up the help
centers' alerts nor make the event be redelivered), then marked sent. A periodic tick
resends what stayed pending (SMTP failure, or the process stopped in between) under the
same Message-ID, so a duplicate is recognisable by id.
"""

import asyncio
from datetime import UTC, datetime, timedelta

from contracts import Envelope, RequestAssigned, RequestCancelled, RequestOffered, RequestOfferWithdrawn
from contracts.vocabulary import WithdrawalReason
from presence_svc.adapters.alerts import AlertRepository
from presence_svc.adapters.connections import ConnectionRegistry
from presence_svc.adapters.mailer import Mailer
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.domain.alerts import (
    ACCESS_REVOKED,
    Alert,
    AlertKind,
    PendingEmail,
    alert_frame,
    email_body,
    email_subject,
    may_alert,
    still_visible,
    withdrawn_frame,
)
from servicekit.logging import get_logger

log = get_logger(__name__)

RESEND_BATCH = 50
"""Pending e-mails one retry tick sends at most (the next tick takes the rest)."""


class AlertHandlers:
    def __init__(
        self,
        connections: ConnectionRegistry,
        technicians: TechnicianRepository,
        alerts: AlertRepository,
        mailer: Mailer,
        *,
        resend_after: timedelta,
    ) -> None:
        self.connections = connections
        self.technicians = technicians
        self.alerts = alerts
        self.mailer = mailer
        self.resend_after = resend_after
        """How long a recorded e-mail is left to its first attempt before the tick resends it."""
        self._mail_tasks: set[asyncio.Task[None]] = set()

    async def offered(self, event: Envelope[RequestOffered]) -> None:
        offer = event.data
        for technician_id in dict.fromkeys(offer.technician_ids):
            await self._alert(
                Alert(
                    request_id=offer.request_id,
                    technician_id=technician_id,
                    account_id=offer.account_id,
                    company_id=offer.company_id,
                    customer_name=offer.customer_name,
                    description=offer.description,
                    portal_type=offer.portal_type.value,
                    expires_at=offer.expires_at,
                    kind=AlertKind.OFFER,
                    issued_at=event.occurred_at,
                )
            )

    async def assigned(self, event: Envelope[RequestAssigned]) -> None:
        assignment = event.data
        # Whoever still holds an alert for this request lost it: someone took it (for
        # Queue mode, the previous assignee of a re-assigned request).
        for technician_id in await self.alerts.open_for_request(assignment.request_id):
            if assignment.alert and technician_id == assignment.technician_id:
                continue
            await self._withdraw(assignment.request_id, technician_id, WithdrawalReason.TAKEN, event.occurred_at)
        if assignment.alert:
            await self._alert(
                Alert(
                    request_id=assignment.request_id,
                    technician_id=assignment.technician_id,
                    account_id=assignment.account_id,
                    company_id=assignment.company_id,
                    customer_name=assignment.customer_name,
                    description=assignment.description,
                    portal_type=assignment.portal_type.value,
                    expires_at=None,
                    kind=AlertKind.ASSIGNED,
                    issued_at=event.occurred_at,
                )
            )

    async def offer_withdrawn(self, event: Envelope[RequestOfferWithdrawn]) -> None:
        withdrawal = event.data
        for technician_id in dict.fromkeys(withdrawal.technician_ids):
            await self._withdraw(withdrawal.request_id, technician_id, withdrawal.reason, event.occurred_at)

    async def cancelled(self, event: Envelope[RequestCancelled]) -> None:
        request_id = event.data.request_id
        await self.alerts.mark_cancelled(request_id, event.occurred_at)
        for technician_id in await self.alerts.open_for_request(request_id):
            await self._withdraw(request_id, technician_id, WithdrawalReason.CANCELLED, event.occurred_at)

    async def replay(self, technician_id: str) -> list[dict[str, object]]:
        """Frames of the alerts still open for a technician (for a help center connecting)."""
        preferences = await self.technicians.preferences(technician_id)
        if preferences is None or not preferences[0].desktop_alerts:
            return []
        technician = await self.technicians.get(technician_id)
        now = datetime.now(UTC)
        return [
            alert_frame(alert, sound=preferences[0].sound)
            for alert in await self.alerts.open_for_technician(technician_id)
            if alert.replayable(now) and still_visible(technician, alert)
        ]

    async def withdraw_invisible(self, technician_id: str) -> None:
        """After the technician's access changed: withdraw the open alerts of companies they
        no longer have (all of them once removed or disabled)."""
        technician = await self.technicians.get(technician_id)
        now = datetime.now(UTC)
        for alert in await self.alerts.open_for_technician(technician_id):
            if still_visible(technician, alert):
                continue
            if await self.alerts.close(alert.request_id, technician_id, reason=ACCESS_REVOKED, at=now):
                await self.connections.send(technician_id, withdrawn_frame(alert.request_id, ACCESS_REVOKED))

    async def resend_pending(self, now: datetime | None = None) -> None:
        """Periodic: send the e-mails of open alerts recorded more than `resend_after` ago and
        still not confirmed sent. `now` lets a test act as a later tick."""
        now = now or datetime.now(UTC)
        for _ in range(RESEND_BATCH):
            email = await self.alerts.claim_due_email(now, retry_at=now + self.resend_after)
            if email is None:
                return
            if not still_visible(await self.technicians.get(email.alert.technician_id), email.alert):
                await self.alerts.drop_email(email)
                log.info("alert e-mail dropped: access revoked", request_id=email.alert.request_id)
                continue
            await self._send(email)

    async def _alert(self, alert: Alert) -> None:
        technician = await self.technicians.get(alert.technician_id)
        if not may_alert(technician, alert, connected=self.connections.connected(alert.technician_id)):
            log.info(
                "technician not alerted: unavailable, disconnected or without access",
                technician_id=alert.technician_id,
                request_id=alert.request_id,
            )
            return
        stored = await self.technicians.preferences(alert.technician_id)
        if stored is None:
            return
        preferences, _ = stored
        recipients = list(preferences.contacts) if preferences.wants_email else []
        due = datetime.now(UTC) + self.resend_after
        if not await self.alerts.open(alert, email_to=recipients, email_due=due):
            return  # already alerted for this offer, or the offer is stale
        if not still_visible(await self.technicians.get(alert.technician_id), alert):
            # Access was revoked while we decided: whoever withdrew the open alerts may have
            # missed this one.
            await self.alerts.close(alert.request_id, alert.technician_id, reason=ACCESS_REVOKED, at=datetime.now(UTC))
            return
        if preferences.desktop_alerts:
            await self.connections.send(alert.technician_id, alert_frame(alert, sound=preferences.sound))
        if recipients:
            self._mail_soon(PendingEmail(alert, tuple(recipients), alert.message_id))
        log.info("technician alerted", technician_id=alert.technician_id, request_id=alert.request_id)

    async def _withdraw(self, request_id: str, technician_id: str, reason: WithdrawalReason, at: datetime) -> None:
        if await self.alerts.close(request_id, technician_id, reason=reason.value, at=at):
            await self.connections.send(technician_id, withdrawn_frame(request_id, reason.value))

    def _mail_soon(self, email: PendingEmail) -> None:
        task = asyncio.create_task(self._send(email))
        self._mail_tasks.add(task)
        task.add_done_callback(self._mail_tasks.discard)

    async def _send(self, email: PendingEmail) -> None:
        alert = email.alert
        try:
            await self.mailer.send(
                list(email.recipients), email_subject(alert), email_body(alert), message_id=email.message_id
            )
        except Exception as error:  # SMTP down or refusing: the in-app alert still stands
            log.warning("alert e-mail not sent; retried later", request_id=alert.request_id, error=str(error))
            return
        await self.alerts.email_sent(email)

    async def stop(self) -> None:
        """Let e-mails in flight finish (bounded by the SMTP timeout)."""
        if self._mail_tasks:
            await asyncio.gather(*self._mail_tasks, return_exceptions=True)

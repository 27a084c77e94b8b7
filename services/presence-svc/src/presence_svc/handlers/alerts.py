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
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from contracts import Envelope, RequestAssigned, RequestCancelled, RequestOffered, RequestOfferWithdrawn
from contracts.vocabulary import WithdrawalReason
from presence_svc.adapters.alerts import AlertRepository, Opening
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
from presence_svc.domain.availability import Technician
from presence_svc.domain.preferences import Preferences
from presence_svc.handlers.presence import Channel
from servicekit.logging import get_logger
from servicekit.mailer import Mail, Mailer

log = get_logger(__name__)

RESEND_BATCH = 50
"""Pending e-mails one retry tick sends at most (the next tick takes the rest)."""
RESCAN = timedelta(minutes=1)
"""How often the retry tick looks for pending e-mails it has no reason to expect: those of a
replica that stopped before sending them (a restarted one looks at once)."""


class AlertHandlers:
    def __init__(
        self,
        channel: Channel,
        technicians: TechnicianRepository,
        alerts: AlertRepository,
        mailer: Mailer,
        *,
        resend_after: timedelta,
        grace: timedelta = timedelta(0),
    ) -> None:
        self.channel = channel
        """The technician's help centers, on whichever replica holds them."""
        self.technicians = technicians
        self.alerts = alerts
        self.mailer = mailer
        self.resend_after = resend_after
        """How long a recorded e-mail is left to its first attempt before the tick resends it."""
        self.grace = grace
        """A technician whose help center dropped stays routable this long; alerts made
        meanwhile are stored for the replay when they reconnect (often on another replica)."""
        self._mail_tasks: set[asyncio.Task[None]] = set()
        self._next_resend = datetime.min.replace(tzinfo=UTC)
        """When an e-mail recorded here may be due for a retry (see `resend_when_due`)."""

    async def offered(self, event: Envelope[RequestOffered]) -> None:
        offer = event.data
        alerts = [
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
            for technician_id in dict.fromkeys(offer.technician_ids)
        ]
        openings, preferences = await self._openings(alerts)
        email_due = datetime.now(UTC) + self.resend_after
        opened = await self.alerts.open(openings, email_due=email_due)
        self._expect_emails(openings, email_due)
        await self._deliver(opened, openings, preferences)

    async def assigned(
        self, event: Envelope[RequestAssigned], record: Callable[[], Awaitable[Technician | None]] | None = None
    ) -> Technician | None:
        """`record`: the assignment's own write on the assignee (the streak's), made here after
        the alert opened, so that the assignee as it returns them is the re-read `_deliver`
        needs. Returns that (None without `record`)."""
        assignment = event.data
        assignee: Opening | None = None
        preferences: dict[str, Preferences] = {}
        if assignment.alert:
            alert = Alert(
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
            openings, preferences = await self._openings([alert])
            assignee = openings[0] if openings else None
        # Whoever held an alert for this request lost it: someone took it (for Queue mode,
        # the previous assignee of a re-assigned request). One write closes them all and
        # opens the assignee's.
        holders = await self.alerts.assign(assignee, request_id=assignment.request_id, at=event.occurred_at)
        if assignee is not None:
            self._expect_emails([assignee], datetime.now(UTC) + self.resend_after)
        after = await record() if record is not None else None
        if holders is None:
            return after  # an older or repeated assignment
        for technician_id in holders:
            if assignment.alert and technician_id == assignment.technician_id:
                continue
            await self.channel.send(technician_id, withdrawn_frame(assignment.request_id, WithdrawalReason.TAKEN.value))
        if assignee is not None:
            current = None if record is None else {} if after is None else {after.technician_id: after}
            await self._deliver([assignee.alert], [assignee], preferences, current)
        return after

    async def offer_withdrawn(self, event: Envelope[RequestOfferWithdrawn]) -> None:
        withdrawal = event.data
        if withdrawal.reason is WithdrawalReason.TAKEN:
            # dispatch publishes it with the RequestAssigned of the same write, whose handling
            # closes every alert of the request (and refuses later offers): nothing left here.
            return
        closed = await self.alerts.close(withdrawal.request_id, withdrawal.technician_ids, at=event.occurred_at)
        for technician_id in closed:
            await self.channel.send(technician_id, withdrawn_frame(withdrawal.request_id, withdrawal.reason.value))

    async def cancelled(self, event: Envelope[RequestCancelled]) -> None:
        request_id = event.data.request_id
        for technician_id in await self.alerts.cancel(request_id, event.occurred_at):
            await self.channel.send(technician_id, withdrawn_frame(request_id, WithdrawalReason.CANCELLED.value))

    async def replay(self, technician_id: str) -> list[dict[str, object]]:
        """Frames of the alerts still open for a technician (for a help center connecting)."""
        found = (await self.technicians.get_many([technician_id])).get(technician_id)
        if found is None or not found[1].desktop_alerts:
            return []
        technician, preferences = found
        now = datetime.now(UTC)
        return [
            alert_frame(alert, sound=preferences.sound)
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
            if await self.alerts.close(alert.request_id, [technician_id], at=now):
                await self.channel.send(technician_id, withdrawn_frame(alert.request_id, ACCESS_REVOKED))

    def _expect_emails(self, openings: Sequence[Opening], due: datetime) -> None:
        if any(opening.email_to for opening in openings):
            self._next_resend = min(self._next_resend, due)

    async def resend_when_due(self) -> None:
        """Periodic (every retry interval): `resend_pending` once an e-mail recorded here may
        be due, and at least every `RESCAN` (those nobody here recorded)."""
        now = datetime.now(UTC)
        if now >= self._next_resend:
            await self.resend_pending(now)

    async def resend_pending(self, now: datetime | None = None) -> None:
        """Send the e-mails of open alerts recorded more than `resend_after` ago and still not
        confirmed sent. `now` lets a test act as a later tick."""
        now = now or datetime.now(UTC)
        self._next_resend = now + RESCAN
        emails = await self.alerts.claim_due_emails(now, retry_at=now + self.resend_after, limit=RESEND_BATCH)
        if not emails:
            return
        # Claimed until `retry_at`: if this attempt fails too, they are due again then (and
        # a full batch may have left others due now).
        self._next_resend = min(self._next_resend, now if len(emails) == RESEND_BATCH else now + self.resend_after)
        technicians = await self.technicians.get_many(email.alert.technician_id for email in emails)
        for email in emails:
            found = technicians.get(email.alert.technician_id)
            if not still_visible(found[0] if found else None, email.alert):
                await self.alerts.drop_email(email)
                log.info("alert e-mail dropped: access revoked", request_id=email.alert.request_id)
                continue
            await self._send(email)

    async def _openings(self, alerts: list[Alert]) -> tuple[list[Opening], dict[str, Preferences]]:
        """Which of these alerts to open (one read of their technicians), with their e-mails."""
        now = datetime.now(UTC)
        live = [alert for alert in alerts if alert.replayable(now)]  # a late event of a past offer
        found = await self.technicians.get_many(alert.technician_id for alert in live) if live else {}
        openings, preferences = [], {}
        for alert in live:
            technician, prefs = found.get(alert.technician_id, (None, None))
            if prefs is None or not may_alert(
                # Live, not just connected: dispatch still routes to a technician within the
                # grace period (a help center reconnecting, a replica's lease renewed late),
                # so their alert must wait for the reconnection's replay, not be dropped.
                technician,
                alert,
                connected=technician is not None and technician.live(now, self.grace),
            ):
                log.info(
                    "technician not alerted: unavailable, disconnected or without access",
                    technician_id=alert.technician_id,
                    request_id=alert.request_id,
                )
                continue
            preferences[alert.technician_id] = prefs
            openings.append(Opening(alert, tuple(prefs.contacts) if prefs.wants_email else ()))
        return openings, preferences

    async def _deliver(
        self,
        opened: list[Alert],
        openings: list[Opening],
        preferences: dict[str, Preferences],
        current: dict[str, Technician] | None = None,
    ) -> None:
        """`current`: the technicians as read after the alerts opened, if the caller has that."""
        if not opened:
            return
        # Access may have been revoked while we decided, after whoever withdraws the open
        # alerts of a technician looked: one more read (of all the event's technicians at
        # once) closes that window.
        now = datetime.now(UTC)
        if current is None:
            found = await self.technicians.get_many(alert.technician_id for alert in opened)
            current = {technician_id: pair[0] for technician_id, pair in found.items()}
        recipients = {opening.alert.technician_id: opening.email_to for opening in openings}
        for alert in opened:
            if not still_visible(current.get(alert.technician_id), alert):
                await self.alerts.close(alert.request_id, [alert.technician_id], at=now)
                continue
            prefs = preferences[alert.technician_id]
            if prefs.desktop_alerts:
                await self.channel.send(alert.technician_id, alert_frame(alert, sound=prefs.sound))
            if recipients.get(alert.technician_id):
                self._mail_soon(PendingEmail(alert, tuple(recipients[alert.technician_id]), alert.message_id))
            log.info("technician alerted", technician_id=alert.technician_id, request_id=alert.request_id)

    def _mail_soon(self, email: PendingEmail) -> None:
        task = asyncio.create_task(self._send(email))
        self._mail_tasks.add(task)
        task.add_done_callback(self._mail_tasks.discard)

    async def _send(self, email: PendingEmail) -> None:
        alert = email.alert
        try:
            await self.mailer.send(
                Mail(list(email.recipients), email_subject(alert), email_body(alert), message_id=email.message_id)
            )
        except Exception as error:  # SMTP down or refusing: the in-app alert still stands
            log.warning("alert e-mail not sent; retried later", request_id=alert.request_id, error=str(error))
            return
        await self.alerts.email_sent(email)

    async def settle(self) -> None:
        """Periodic: settled requests leave the live alerts collection."""
        if moved := await self.alerts.settle_due():
            log.info("alerts settled into history", requests=moved)

    async def forget_history(self) -> None:
        """Periodic: alert history past its retention is deleted."""
        if forgotten := await self.alerts.forget_history():
            log.info("alert history past retention deleted", requests=forgotten)

    async def stop(self) -> None:
        """Let e-mails in flight finish (bounded by the SMTP timeout)."""
        if self._mail_tasks:
            await asyncio.gather(*self._mail_tasks, return_exceptions=True)

"""Offline messages: left by a customer instead of waiting, e-mailed to the company's
technicians, listed in the help center and answered by e-mail from there.

Both e-mails ride on an event stored with the change (`OfflineMessageLeft`,
`OfflineMessageAnswered`) that portal-svc itself consumes: a crash after the message or the
answer was accepted still sends the e-mail (redelivery), and a stable Message-ID lets the
receiving side recognise a repeat. Access is decided from portal-svc's own records of the
technicians (their current company list), never from the token's claims alone.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Envelope, OfflineMessageAnswered, OfflineMessageLeft, new_id
from contracts.vocabulary import PortalStatus
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.messages import MessageRepository
from portal_svc.adapters.portal_directory import PortalDirectory
from portal_svc.adapters.users import UserRepository
from portal_svc.domain.commands import AnswerMessage, LeaveMessage
from portal_svc.domain.errors import Conflict, Forbidden, NotFound
from portal_svc.domain.forms import parse_form
from portal_svc.handlers.stamp import Stamp
from servicekit.auth import Principal, Role
from servicekit.logging import get_logger
from servicekit.mailer import Mail, Mailer

log = get_logger(__name__)


def message_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "message_id": doc["_id"],
        "company_id": doc["company_id"],
        "company_name": doc.get("company_name", ""),
        "subdomain": doc.get("subdomain", ""),
        "customer_name": doc["customer_name"],
        "customer_email": doc["customer_email"],
        "text": doc["text"],
        "reason": doc["reason"],
        "status": doc["status"],
        "left_at": doc["left_at"],
        "reply": doc.get("reply"),
        "answered_by": doc.get("answered_by_name"),
        "answered_at": doc.get("answered_at"),
        "reply_sent": bool(doc.get("reply_sent_at")),
    }


class OfflineMessages:
    def __init__(
        self,
        messages: MessageRepository,
        portals: PortalDirectory,
        users: UserRepository,
        companies: CompanyRepository,
        mailer: Mailer,
        stamp: Stamp,
        *,
        public_base_url: str,
        retention: timedelta,
    ) -> None:
        self._messages = messages
        self._portals = portals
        self._users = users
        self._companies = companies
        self._mailer = mailer
        self._stamp = stamp
        self._base_url = public_base_url.rstrip("/")
        self._retention = retention

    async def leave(self, subdomain: str, raw: object) -> dict[str, Any]:
        """Any active portal takes messages, open or closed: that is the point of them."""
        portal = await self._portals.by_subdomain(subdomain.lower())
        if portal is None:
            raise NotFound(f"there is no support portal at {subdomain!r}", code="portal_not_found")
        if portal["status"] != PortalStatus.ACTIVE:
            raise Conflict(
                "Service unavailable — we apologise for this temporary inconvenience.", code="portal_unavailable"
            )
        command = parse_form(LeaveMessage, raw, required=("customer_name", "customer_email", "text"))
        now = datetime.now(UTC)
        message_id = new_id("msg")
        doc = {
            "_id": message_id,
            "account_id": portal["account_id"],
            "company_id": portal["company_id"],
            "company_name": portal.get("company_name", ""),
            "portal_id": portal["_id"],
            "subdomain": portal["subdomain"],
            "customer_name": command.customer_name,
            "customer_email": command.customer_email,
            "text": command.text,
            "reason": command.reason,
            "request_id": command.request_id,
            "status": "open",
            "left_at": now,
        }
        event = OfflineMessageLeft(
            message_id=message_id,
            account_id=portal["account_id"],
            company_id=portal["company_id"],
            portal_id=portal["_id"],
            reason=command.reason,
            request_id=command.request_id,
            left_at=now,
        )
        await self._messages.insert(doc, [self._stamp(event, correlation_id=message_id)])
        log.info("offline message left", message_id=message_id, portal_id=portal["_id"], reason=command.reason)
        return {"message_id": message_id, "status": "open", "left_at": now}

    async def _companies_of(self, staff: Principal) -> list[str]:
        """`staff` is read from the current record (the route's dependency)."""
        if staff.role is Role.ADMIN:
            return [c["_id"] for c in await self._companies.of_account(staff.account_id)]
        return list(staff.company_ids)

    async def listing(self, staff: Principal) -> dict[str, Any]:
        companies = await self._companies_of(staff)
        if not companies:
            return {"open": [], "answered": []}
        open_ = await self._messages.open_for(companies)
        answered = await self._messages.answered_for(companies)
        return {"open": [message_view(d) for d in open_], "answered": [message_view(d) for d in answered]}

    async def _accessible(self, staff: Principal, message_id: str) -> dict[str, Any]:
        doc = await self._messages.get(message_id)
        # Another company's message is reported exactly like a missing one.
        if (
            doc is None
            or doc["account_id"] != staff.account_id
            or doc["company_id"] not in await self._companies_of(staff)
        ):
            raise NotFound("no such message", code="message_not_found")
        return doc

    async def answer(self, staff: Principal, message_id: str, raw: object) -> dict[str, Any]:
        if staff.role is not Role.TECHNICIAN and staff.role is not Role.ADMIN:
            raise Forbidden("only staff answer messages", code="forbidden")
        command = parse_form(AnswerMessage, raw, required=("text",))
        doc = await self._accessible(staff, message_id)
        if doc["status"] != "open":
            raise Conflict("this message was already answered", code="already_answered")
        now = datetime.now(UTC)
        event = OfflineMessageAnswered(
            message_id=message_id,
            account_id=doc["account_id"],
            company_id=doc["company_id"],
            technician_id=staff.subject,
            answered_at=now,
        )
        fields = {
            "status": "answered",
            "reply": command.text,
            "answered_by": staff.subject,
            "answered_by_name": staff.name,
            "answered_at": now,
        }
        answered = await self._messages.answer(message_id, fields, [self._stamp(event, correlation_id=message_id)])
        if answered is None:
            raise Conflict("this message was already answered", code="already_answered")
        log.info("offline message answered", message_id=message_id, technician_id=staff.subject)
        return message_view(answered)

    # ---- consumers: the e-mails ----

    async def notify_technicians(self, event: Envelope[OfflineMessageLeft]) -> bool:
        doc = await self._messages.get(event.data.message_id)
        if doc is None or doc.get("notified_at"):
            return False  # redelivered after sending: nothing to do
        technicians = await self._users.of_account(doc["account_id"], Role.TECHNICIAN.value)
        recipients = sorted(
            t["email"] for t in technicians if t.get("enabled", True) and doc["company_id"] in t.get("company_ids", [])
        )
        if recipients:
            company = doc.get("company_name") or doc["subdomain"]
            await self._mailer.send(
                Mail(
                    recipients=recipients,
                    subject=f"New message for {company} support from {doc['customer_name']}",
                    body=(
                        f"{doc['customer_name']} <{doc['customer_email']}> left a message at the "
                        f"{company} support portal:\n\n{doc['text']}\n\n"
                        f"Answer it from the help center: {self._base_url}/help\n"
                    ),
                    message_id=f"<{doc['_id']}.left@assistline>",
                    reply_to=doc["customer_email"],
                )
            )
        await self._messages.mark(doc["_id"], {"notified_at": datetime.now(UTC), "notified": len(recipients)})
        return True

    async def send_answer(self, event: Envelope[OfflineMessageAnswered]) -> bool:
        doc = await self._messages.get(event.data.message_id)
        if doc is None or doc.get("reply_sent_at") or not doc.get("reply"):
            return False
        company = doc.get("company_name") or doc["subdomain"]
        await self._mailer.send(
            Mail(
                recipients=[doc["customer_email"]],
                subject=f"Re: your message to {company} support",
                body=(
                    f"Hello {doc['customer_name']},\n\n{doc['reply']}\n\n"
                    f"— {doc.get('answered_by_name') or 'Your technician'}, {company} support\n\n"
                    f"You wrote:\n{doc['text']}\n"
                ),
                message_id=f"<{doc['_id']}.answer@assistline>",
                in_reply_to=f"<{doc['_id']}.left@assistline>",
            )
        )
        await self._messages.mark(doc["_id"], {"reply_sent_at": datetime.now(UTC)})
        return True

    async def archive_answered(self) -> int:
        return await self._messages.archive_answered(self._retention)

    async def forget_old(self) -> int:
        return await self._messages.forget_answered(datetime.now(UTC))

"""Who may join or read which session.

A customer token is valid for one request only; a technician joins only the sessions
assigned to them, or those they were invited into and have not left (the session's
`guests`, fed by `RequestColleagueJoined` / `RequestColleagueLeft`), in a company they can
access NOW according to chat-svc's own record of them (`TechnicianAccess`, fed by
`TechnicianUpdated`), not the company list their token was issued with; an admin reads
(never joins) the sessions of their account.

A technician chat-svc has no record of is refused (`UnknownTechnician`): portal-svc
announces every technician when it creates them, so the record normally exists before the
technician can sign in, and a stale or forged token of a deleted person gains nothing.
"""

from chat_svc.domain.errors import NotYourSession, UnknownTechnician, WrongRole
from chat_svc.domain.model import Author, ChatSession, session_id_for
from chat_svc.domain.technicians import TechnicianAccess
from servicekit.auth import Principal, Role


def customer_owns(principal: Principal, session_id: str) -> bool:
    return (
        principal.role is Role.CUSTOMER
        and principal.request_id is not None
        and session_id_for(principal.request_id) == session_id
    )


def known(principal: Principal, record: TechnicianAccess | None) -> TechnicianAccess:
    """The record deciding a technician's access, or a refusal when there is none yet."""
    if record is None or record.technician_id != principal.subject:
        raise UnknownTechnician(
            "chat-svc has no record of this technician yet; try again in a few seconds, "
            "or ask your admin whether your account still exists"
        )
    return record


def technician_companies(principal: Principal, record: TechnicianAccess | None) -> frozenset[str]:
    """The companies a technician may list sessions of, now."""
    return known(principal, record).companies(principal.account_id)


def join_as(principal: Principal, session: ChatSession, record: TechnicianAccess | None = None) -> Author:
    """The author a live connection of `principal` speaks as, or a refusal.

    `record` is chat-svc's record of the technician (unused for customers and admins)."""
    if principal.role is Role.CUSTOMER:
        if customer_owns(principal, session.session_id) and principal.account_id == session.account_id:
            return Author.CUSTOMER
        raise NotYourSession("this token is for another request")
    if principal.role is Role.TECHNICIAN:
        access = known(principal, record)
        if principal.subject in session.guests and session.is_active:
            # An invited colleague in the chat now (chat-svc's own record, fed by the join
            # and leave events): one who left, or whose chat ended, is refused below.
            if principal.account_id != session.account_id or not access.may_act_for(
                session.account_id, session.company_id
            ):
                raise NotYourSession("you no longer have access to this session's company")
            return Author.TECHNICIAN
        if principal.subject != session.technician_id:
            raise NotYourSession("this session is assigned to another technician")
        if session.awaiting_technician:
            raise NotYourSession("you sent this chat back to the queue; it is no longer yours")
        if principal.account_id != session.account_id or not access.may_act_for(session.account_id, session.company_id):
            raise NotYourSession("you no longer have access to this session's company")
        return Author.TECHNICIAN
    raise WrongRole("only the customer and the assigned technician can join a chat")


def ensure_can_read(principal: Principal, session: ChatSession, record: TechnicianAccess | None = None) -> None:
    """Transcripts: technicians of the company, admins of the account, the customer."""
    if principal.role is Role.ADMIN and principal.account_id == session.account_id:
        return
    if principal.role is Role.TECHNICIAN:
        access = known(principal, record)
        if principal.account_id == session.account_id and access.may_act_for(session.account_id, session.company_id):
            return
    if principal.role is Role.CUSTOMER and customer_owns(principal, session.session_id):
        return
    raise NotYourSession("you cannot read this session")


def still_allowed(record: TechnicianAccess | None, account_id: str, company_id: str) -> bool:
    """Whether a technician's open socket on a session of `company_id` may stay open."""
    return record is not None and record.may_act_for(account_id, company_id)


def is_guest(principal: Principal, session: ChatSession) -> bool:
    """Whether `principal` takes part in the chat as an invited colleague (not its technician)."""
    return (
        principal.role is Role.TECHNICIAN
        and principal.subject in session.guests
        and principal.subject != session.technician_id
    )

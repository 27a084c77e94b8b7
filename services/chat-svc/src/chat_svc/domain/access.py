"""Who may join or read which session.

A customer token is valid for one request only; a technician joins only the sessions
assigned to them, in a company they can still access; an admin reads (never joins) the
sessions of their account.
"""

from servicekit.auth import Principal, Role

from chat_svc.domain.errors import NotYourSession, WrongRole
from chat_svc.domain.model import Author, ChatSession, session_id_for


def customer_owns(principal: Principal, session_id: str) -> bool:
    return (
        principal.role is Role.CUSTOMER
        and principal.request_id is not None
        and session_id_for(principal.request_id) == session_id
    )


def join_as(principal: Principal, session: ChatSession) -> Author:
    """The author a live connection of `principal` speaks as, or a refusal."""
    if principal.role is Role.CUSTOMER:
        if customer_owns(principal, session.session_id) and principal.account_id == session.account_id:
            return Author.CUSTOMER
        raise NotYourSession("this token is for another request")
    if principal.role is Role.TECHNICIAN:
        if (
            principal.subject == session.technician_id
            and session.company_id in principal.company_ids
            and principal.account_id == session.account_id
        ):
            return Author.TECHNICIAN
        raise NotYourSession("this session is assigned to another technician")
    raise WrongRole("only the customer and the assigned technician can join a chat")


def ensure_can_read(principal: Principal, session: ChatSession) -> None:
    """Transcripts: technicians of the company, admins of the account, the customer."""
    if principal.role is Role.ADMIN and principal.account_id == session.account_id:
        return
    if (
        principal.role is Role.TECHNICIAN
        and principal.account_id == session.account_id
        and session.company_id in principal.company_ids
    ):
        return
    if principal.role is Role.CUSTOMER and customer_owns(principal, session.session_id):
        return
    raise NotYourSession("you cannot read this session")

"""Canned replies use cases. Who may do what is decided by chat-svc's own record of the
technician (`TechnicianUpdated`), not the token's claims alone: a removed technician's still
valid token reads and changes nothing."""

from chat_svc.adapters.canned import CannedReplyRepository
from chat_svc.adapters.technicians import TechnicianRepository
from chat_svc.domain.access import known
from chat_svc.domain.canned import MAX_TITLE, CannedReply, Scope, check_text, normalise_shortcut
from chat_svc.domain.errors import InvalidCannedReply, WrongRole
from contracts import new_id
from servicekit.auth import Principal, Role


class CannedReplies:
    def __init__(self, replies: CannedReplyRepository, technicians: TechnicianRepository) -> None:
        self.replies = replies
        self.technicians = technicians

    async def _owner(self, principal: Principal, scope: Scope, *, manage: bool) -> str:
        """The owner id of `scope` for this caller, or a refusal."""
        if principal.role is Role.ADMIN:
            if scope is Scope.ACCOUNT:
                return principal.account_id
            raise WrongRole("personal canned replies belong to technicians; admins manage the account's")
        if principal.role is not Role.TECHNICIAN:
            raise WrongRole("canned replies are for the account's admins and technicians")
        record = known(principal, await self.technicians.get(principal.subject))
        if not record.enabled or record.account_id != principal.account_id:
            raise WrongRole("you were removed from this account")
        if scope is Scope.PERSONAL:
            return principal.subject
        if manage:
            raise WrongRole("only an admin can change the account's canned replies")
        return principal.account_id

    async def all_of(self, principal: Principal) -> dict[str, list[CannedReply]]:
        found = {
            "account": await self.replies.list(Scope.ACCOUNT, await self._owner(principal, Scope.ACCOUNT, manage=False))
        }
        if principal.role is Role.TECHNICIAN:
            found["personal"] = await self.replies.list(Scope.PERSONAL, principal.subject)
        else:
            found["personal"] = []
        return found

    async def create(self, principal: Principal, scope: Scope, title: str, shortcut: str, text: str) -> CannedReply:
        owner = await self._owner(principal, scope, manage=True)
        reply = CannedReply(new_id("cnr"), scope, _title(title), normalise_shortcut(shortcut), check_text(text))
        await self.replies.create(owner, reply)
        return reply

    async def change(
        self, principal: Principal, scope: Scope, reply_id: str, title: str, shortcut: str, text: str
    ) -> CannedReply:
        owner = await self._owner(principal, scope, manage=True)
        reply = CannedReply(reply_id, scope, _title(title), normalise_shortcut(shortcut), check_text(text))
        await self.replies.replace(owner, reply)
        return reply

    async def delete(self, principal: Principal, scope: Scope, reply_id: str) -> None:
        await self.replies.delete(scope, await self._owner(principal, scope, manage=True), reply_id)


def _title(raw: str) -> str:
    title = raw.strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidCannedReply(f"the title needs 1 to {MAX_TITLE} characters", field="title")
    return title

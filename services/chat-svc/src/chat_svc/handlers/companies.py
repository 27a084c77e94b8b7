"""Company names as chat-svc knows them (from portal-svc's `CompanyUpdated`): shown with each
session, so the help center fills `{company_name}` when it inserts a canned reply."""

from collections.abc import Iterable

from chat_svc.adapters.companies import CompanyRepository
from chat_svc.domain.model import ChatSession
from contracts import CompanyUpdated, Envelope
from servicekit.logging import get_logger

log = get_logger(__name__)


class CompanyNames:
    def __init__(self, companies: CompanyRepository) -> None:
        self.companies = companies

    async def on_updated(self, event: Envelope[CompanyUpdated]) -> bool:
        saved = await self.companies.save(event.data)
        if not saved:
            log.info("company update without effect", company_id=event.data.company_id)
        return saved

    async def of(self, sessions: Iterable[ChatSession]) -> dict[str, str]:
        """The name of each of the sessions' companies that chat-svc has heard of."""
        company_ids = sorted({session.company_id for session in sessions})
        return await self.companies.names(company_ids) if company_ids else {}

"""The technician's customer panel: who they are chatting with, what they wrote, and the
customer's earlier requests (same e-mail, same account) — for technicians who can access the
request's company, as their record says now."""

from typing import Any

from contracts import Envelope, RequestSubmitted
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.customer_history import CustomerHistoryRepository
from portal_svc.adapters.requests import RequestRepository
from portal_svc.domain.errors import Forbidden, NotFound
from servicekit.auth import Principal

EARLIER_SHOWN = 10


class CustomerPanel:
    def __init__(
        self, history: CustomerHistoryRepository, requests: RequestRepository, companies: CompanyRepository
    ) -> None:
        self._history = history
        self._requests = requests
        self._companies = companies

    async def submitted(self, event: Envelope[RequestSubmitted]) -> None:
        data = event.data
        if not data.customer_email:
            return
        entry = {
            "request_id": data.request_id,
            "company_id": data.company_id,
            "submitted_at": data.submitted_at,
            "description": data.description[:300],
        }
        await self._history.record(data.account_id, data.customer_email, entry)

    async def of_request(self, principal: Principal, request_id: str) -> dict[str, Any]:
        request = await self._requests.get(request_id)
        if request is None or request["account_id"] != principal.account_id:
            raise NotFound("There is no such request.", code="request_not_found")
        if not principal.can_access_company(request["company_id"]):
            raise Forbidden("This request belongs to a company you cannot access.", code="company_forbidden")
        company = await self._companies.get(principal.account_id, request["company_id"])
        earlier: list[dict[str, Any]] = []
        email = request.get("customer_email")
        if email:
            listed = [e for e in await self._history.of(principal.account_id, email) if e["request_id"] != request_id]
            for entry in reversed(listed):
                # Only what this technician may see: other companies' requests stay out.
                if not principal.can_access_company(entry["company_id"]) or len(earlier) >= EARLIER_SHOWN:
                    continue
                past = await self._requests.get(entry["request_id"])
                earlier.append(
                    {
                        "request_id": entry["request_id"],
                        "submitted_at": entry["submitted_at"],
                        "description": entry["description"],
                        "status": past["status"] if past else "archived",
                    }
                )
        return {
            "request_id": request_id,
            "customer_name": request.get("customer_name", ""),
            "customer_email": email,
            "description": request.get("description", ""),
            "submitted_at": request["submitted_at"],
            "portal_subdomain": request.get("subdomain"),
            "company_name": company["name"] if company else None,
            "earlier": earlier,
        }

"""chat-svc's own view of a technician, fed by `TechnicianUpdated`.

The token proves who someone is and their role; which companies a technician may act for
is what the latest `TechnicianUpdated` says, so an admin's change takes effect within
seconds instead of when the token expires.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class TechnicianAccess:
    technician_id: str
    account_id: str
    company_ids: frozenset[str]
    enabled: bool
    revision: int

    def may_act_for(self, account_id: str, company_id: str) -> bool:
        return self.enabled and self.account_id == account_id and company_id in self.company_ids

    def companies(self, account_id: str) -> frozenset[str]:
        """The companies of `account_id` the technician may act for now (none once removed)."""
        if not self.enabled or self.account_id != account_id:
            return frozenset()
        return self.company_ids

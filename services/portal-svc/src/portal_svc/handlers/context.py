"""What every use case needs, wired once by bootstrap."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from contracts import PortalConfigured, TechnicianUpdated
from servicekit.auth import Principal, issue_token
from servicekit.runtime import Runtime

from portal_svc.adapters.ratelimit import SlidingWindowLimiter
from portal_svc.adapters.repository import Repository
from portal_svc.config import Settings


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


@dataclass
class Context:
    runtime: Runtime
    settings: Settings
    repo: Repository
    submissions: SlidingWindowLimiter
    logins: SlidingWindowLimiter

    def sign(self, principal: Principal, ttl_hours: float) -> str:
        return issue_token(principal, self.settings.jwt_secret.get_secret_value(), timedelta(hours=ttl_hours))

    def technician_event(self, doc: dict[str, Any], *, correlation_id: str):
        return self.runtime.event(
            TechnicianUpdated(
                technician_id=doc["_id"],
                account_id=doc["account_id"],
                display_name=doc["name"],
                company_ids=doc["company_ids"],
                capacity=doc["capacity"],
                enabled=doc["enabled"],
                revision=doc["revision"],
            ),
            correlation_id=correlation_id,
        )

    def portal_event(self, doc: dict[str, Any], *, correlation_id: str):
        return self.runtime.event(
            PortalConfigured(
                portal_id=doc["_id"],
                account_id=doc["account_id"],
                company_id=doc["company_id"],
                subdomain=doc["subdomain"],
                status=doc["status"],
                mode=doc["mode"],
                portal_type=doc["portal_type"],
                revision=doc["revision"],
            ),
            correlation_id=correlation_id,
        )

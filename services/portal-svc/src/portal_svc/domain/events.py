"""The events portal-svc emits, built from the stored document they announce (full snapshots)."""

from typing import Any

from contracts import CompanyUpdated, PortalConfigured, TechnicianUpdated


def technician_updated(doc: dict[str, Any]) -> TechnicianUpdated:
    return TechnicianUpdated(
        technician_id=doc["_id"],
        account_id=doc["account_id"],
        display_name=doc["name"],
        company_ids=doc["company_ids"],
        capacity=doc["capacity"],
        enabled=doc["enabled"],
        revision=doc["revision"],
    )


def portal_configured(doc: dict[str, Any]) -> PortalConfigured:
    return PortalConfigured(
        portal_id=doc["_id"],
        account_id=doc["account_id"],
        company_id=doc["company_id"],
        subdomain=doc["subdomain"],
        status=doc["status"],
        mode=doc["mode"],
        portal_type=doc["portal_type"],
        revision=doc["revision"],
    )


def company_updated(doc: dict[str, Any], *, deleted: bool = False) -> CompanyUpdated:
    return CompanyUpdated(
        company_id=doc["_id"],
        account_id=doc["account_id"],
        name=doc["name"],
        deleted=deleted,
        revision=doc["revision"],
    )

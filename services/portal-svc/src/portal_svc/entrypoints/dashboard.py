"""HTTP routes of the supervisor dashboard (under /api/portal/dashboard), for admins and
supervisors; each request re-reads the viewer's record, so a removed supervisor is refused
at once, and the company must be one of the account's in portal-svc's own view."""

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from portal_svc.handlers.dashboard import VIEWERS, Dashboard
from servicekit.auth import Authenticator, Principal

CSV_COLUMNS = (
    "day",
    "requests",
    "answered",
    "abandoned",
    "abandonment",
    "median_wait_seconds",
    "p90_wait_seconds",
    "median_handling_seconds",
    "ratings",
    "average_rating",
)
CompanyId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The company.")]


Current = Callable[[Principal], Awaitable[Principal]]
"""The person behind a token as their record says now (`StaffAuth.current`)."""


def dashboard_router(dashboard: Dashboard, auth: Authenticator, current: Current) -> APIRouter:
    router = APIRouter(prefix="/dashboard", tags=["dashboard"])
    viewer_token = auth.require(*VIEWERS)

    async def current_viewer(principal: Annotated[Principal, Depends(viewer_token)]) -> Principal:
        return await current(principal)

    Viewer = Annotated[Principal, Depends(current_viewer)]

    @router.get("/companies", summary="The companies whose dashboard you may see (admin or supervisor)")
    async def companies(viewer: Viewer) -> list[dict[str, str]]:
        return await dashboard.companies_of(viewer)

    # The CSV route first: `{company_id}` alone would also match `<id>.csv`.
    @router.get(
        "/companies/{company_id}.csv",
        summary="The same figures per UTC day, as a CSV download",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    async def company_csv(company_id: CompanyId, viewer: Viewer) -> Response:
        summary = await dashboard.for_viewer(viewer, company_id)
        return Response(
            to_csv(summary["by_day"]),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="dashboard-{company_id}.csv"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    @router.get(
        "/companies/{company_id}",
        summary="A company's live state, and its figures today and over the last 7 UTC days",
    )
    async def company_figures(company_id: CompanyId, viewer: Viewer) -> dict[str, Any]:
        return await dashboard.for_viewer(viewer, company_id)

    return router


def to_csv(rows: list[dict[str, Any]]) -> str:
    """RFC 4180 CSV (the csv module quotes what needs quoting); empty cells for no value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else row[column] for column in CSV_COLUMNS])
    return out.getvalue()

"""API: dashboards (per department, item, staff member, day or month; a province's roll-up of
its counties), drill-down to the cases behind a number, CSV export, performance scores."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Response
from sqlalchemy.orm import Session

from core.cases import clock
from core.identity import Principal, Role
from core.supervision.dashboard import Filters, Report, drill, province_report, report, to_csv
from core.supervision.scores import scores_for
from core.tenancy import Tenant
from web.api.scoped import needs
from web.auth import require_staff

__all__ = [
    "DashboardApi",
    "csv_response",
    "dashboard_for",
    "query_params",
    "require_watcher",
]


def require_watcher(principal: Principal | None, tenant: Tenant) -> Principal:
    """Supervisors and the county's administrators; the province's administrators on the
    province (which shows its cities and counties)."""
    roles = (Role.province_admin,) if tenant.is_province else (Role.supervisor, Role.tenant_admin)
    return require_staff(principal, *roles)


def dashboard_for(
    db: Session, tenant: Tenant, principal: Principal | None, params: dict[str, str]
) -> Report:
    require_watcher(principal, tenant)
    f = Filters.parse(params)
    if tenant.is_province:
        return province_report(db, tenant, f)
    return report(db, tenant, f, params.get("by") or "department")


def query_params(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in request.query_params.items()}


def csv_response(tenant: Tenant, result: Report) -> Response[bytes]:
    """The dashboard table as a CSV download (API and page alike)."""
    name = f"dashboard-{tenant.slug}-{result.filters.start}-{result.filters.end}.csv"
    return Response(
        to_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class DashboardApi(Controller):
    path = "/api/v1/t/{slug:str}/supervision"
    tags = ["supervision"]

    @get(
        "/dashboard",
        summary="Counts and rates for a period, by department, item, staff, day or month",
        sync_to_thread=True,
        **needs("supervision"),
    )
    def dashboard(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
    ) -> dict[str, Any]:
        return dashboard_for(db, tenant, principal, query_params(request)).as_dict()

    @get(
        "/dashboard.csv",
        summary="The same table as CSV (UTF-8 with BOM)",
        sync_to_thread=True,
        **needs("supervision"),
    )
    def dashboard_csv(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
    ) -> Response[bytes]:
        return csv_response(tenant, dashboard_for(db, tenant, principal, query_params(request)))

    @get(
        "/dashboard/cases",
        summary="The cases behind one number (metric=received|accepted|…; newest 200)",
        sync_to_thread=True,
        **needs("supervision"),
    )
    def cases(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        metric: str,
    ) -> list[dict[str, Any]]:
        require_watcher(principal, tenant)
        rows = drill(db, tenant, Filters.parse(query_params(request)), metric)
        return [
            {
                "number": c.number,
                "item": c.item_name,
                "state": c.state.value,
                "accepted_by": c.accepted_by_name,
                "due_on": c.due_on.isoformat() if c.due_on else None,
                "completed_at": c.completed_at.isoformat() if c.completed_at else None,
                "on_time": c.on_time,
                "rating": c.rating,
            }
            for c in rows
        ]

    @get(
        "/scores",
        summary="Monthly performance scores (人机考核) with their inputs; kind=staff|department",
        sync_to_thread=True,
        **needs("supervision"),
    )
    def scores(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        month: str | None = None,
        kind: str = "staff",
    ) -> list[dict[str, Any]]:
        require_watcher(principal, tenant)
        month = month or clock.today().strftime("%Y-%m")
        return [
            {
                "subject": s.subject_id,
                "name": s.subject_name,
                "score": s.score,
                "inputs": s.inputs,
                "computed_at": s.computed_at.isoformat(),
            }
            for s in scores_for(db, tenant, month, kind)
        ]

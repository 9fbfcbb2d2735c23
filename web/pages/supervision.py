"""The supervisor's pages: the desk (live lists, manual cards, reminders and notes, follow-ups),
the dashboards with charts, drill-down and CSV, and the monthly performance scores."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from core.cases import clock, service
from core.consult import open_counts
from core.errors import GovhallError, InvalidInput
from core.identity import Principal
from core.supervision import desk
from core.supervision.dashboard import DIMENSIONS, DRILL_METRICS, Filters, drill
from core.supervision.scores import WEIGHTS, month_bounds, scores_for
from core.tenancy import Tenant
from web.api.dashboards import csv_response, dashboard_for, query_params, require_watcher
from web.auth import require_staff
from web.pages.cases import back
from web.pages.portal import render
from web.params import Form
from web.templating import script_json

__all__ = ["SupervisionPages"]

CARD_KINDS = {"remind": "督办提醒", "yellow": "黄牌", "red": "红牌", "note": "备注"}


class SupervisionPages(Controller):
    path = "/t/{slug:str}/supervision"
    include_in_schema = False

    @get("/", name="supervision", sync_to_thread=True)
    def desk_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        msg: str = "",
        error: str = "",
    ) -> Template | Redirect:
        me = require_staff(principal)
        if tenant.is_province:  # a province watches its counties through the roll-up
            return Redirect(f"/t/{tenant.slug}/supervision/dashboard")
        lists = desk.live_lists(db, me)
        return render(
            request,
            db,
            tenant,
            "staff/supervision.html",
            lists=lists,
            questions=open_counts(db, tenant),
            kinds=CARD_KINDS,
            msg=msg,
            error=error,
        )

    @post("/cases/{number:str}", name="supervision_card", sync_to_thread=True)
    def card(
        self, tenant: Tenant, db: Session, principal: Principal | None, number: str, data: Form
    ) -> Redirect:
        url = f"/t/{tenant.slug}/supervision"
        try:
            desk.issue_card(
                db,
                tenant,
                require_staff(principal),
                number,
                data.get("kind", ""),
                data.get("reason", ""),
                data.get("task") or None,
            )
            service.commit(db)
        except GovhallError as exc:
            db.rollback()
            return back(url, error=f"{number}：{exc.detail}")
        return back(url, msg=f"{number}：{CARD_KINDS.get(data.get('kind', ''), '')}已记录。")

    @post("/follow-ups/{follow_up_id:uuid}/close", name="supervision_close", sync_to_thread=True)
    def close(
        self,
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        follow_up_id: uuid.UUID,
        data: Form,
    ) -> Redirect:
        url = f"/t/{tenant.slug}/supervision"
        try:
            desk.close_follow_up(
                db, require_staff(principal), follow_up_id, data.get("resolution", "")
            )
            service.commit(db)
        except GovhallError as exc:
            db.rollback()
            return back(url, error=exc.detail)
        return back(url, msg="回访已办结。")

    @get("/dashboard", name="supervision_dashboard", sync_to_thread=True)
    def dashboard(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        params, error = query_params(request), ""
        try:
            result = dashboard_for(db, tenant, principal, params)
        except InvalidInput as exc:  # say what was wrong, show this month meanwhile
            error = exc.detail
            result = dashboard_for(db, tenant, principal, {})
        chart = {
            "labels": [r.label for r in result.rows],
            "series": {
                "completed": [r.counts["completed"] for r in result.rows],
                "on_time": [r.counts["on_time"] for r in result.rows],
                "late": [r.counts["late"] for r in result.rows],
                "received": [r.counts["received"] for r in result.rows],
            },
        }
        return render(
            request,
            db,
            tenant,
            "staff/dashboard.html",
            report=result,
            dimensions=DIMENSIONS,
            metrics=DRILL_METRICS,
            chart=script_json(chart),
            query=urlencode(result.filters.query(by=result.by if result.by != "tenant" else "")),
            drill_query=lambda row, metric: urlencode(_drill_filters(result, row, metric)),
            error=error,
            form=params,
        )

    @get("/dashboard.csv", name="supervision_dashboard_csv", sync_to_thread=True)
    def dashboard_csv(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Response[bytes]:
        return csv_response(tenant, dashboard_for(db, tenant, principal, query_params(request)))

    @get("/dashboard/cases", name="supervision_drill", sync_to_thread=True)
    def drill_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        metric: str = "completed",
    ) -> Template:
        require_watcher(principal, tenant)
        f = Filters.parse(query_params(request))
        return render(
            request,
            db,
            tenant,
            "staff/drill.html",
            cases=drill(db, tenant, f, metric),
            metric=DRILL_METRICS.get(metric, metric),
            filters=f,
            back_query=urlencode(f.query(by=request.query_params.get("by", ""))),
        )

    @get("/scores", name="supervision_scores", sync_to_thread=True)
    def scores(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        month: str = "",
        kind: str = "staff",
    ) -> Template:
        require_watcher(principal, tenant)
        month = month or clock.today().strftime("%Y-%m")
        return render(
            request,
            db,
            tenant,
            "staff/scores.html",
            rows=scores_for(db, tenant, month, kind),
            month=month,
            kind=kind,
            weights=WEIGHTS,
        )


def _drill_filters(result: Any, row: Any, metric: str) -> dict[str, str]:
    """The filters of the report narrowed to one row (a department, item, staff member, day
    or month) for one metric."""
    f: Filters = result.filters
    extra: dict[str, str] = {"metric": metric, "by": result.by}
    q = f.query()
    if result.by in ("department", "item", "staff") and row.key:
        q[result.by] = row.key
    elif result.by == "day" and row.key:
        q["from"] = q["to"] = row.key
    elif result.by == "month" and row.key:
        first, last = month_bounds(row.key)
        q["from"], q["to"] = max(f.start, first).isoformat(), min(f.end, last).isoformat()
    return {**q, **extra}

"""The working-day calendar page (tenant admin): national data coverage, the tenant's own
holidays and working days, and confirming a year the national data does not cover."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.calendar import calendar_warnings, confirm_year, national_years, set_override
from core.calendar.models import CalendarOverride, CalendarYear
from core.errors import GovhallError, InvalidInput
from core.identity import Principal, Role
from core.tenancy import Tenant
from web.auth import require_staff
from web.pages.portal import render
from web.params import Form


class CalendarController(Controller):
    path = "/t/{slug:str}/admin/calendar"
    include_in_schema = False

    def _page(
        self, request: Request[Any, Any, Any], db: Session, tenant: Tenant, error: str | None = None
    ) -> Template:
        overrides = list(
            db.scalars(
                select(CalendarOverride)
                .where(CalendarOverride.tenant_id == tenant.id)
                .order_by(CalendarOverride.day)
            )
        )
        years = list(
            db.scalars(select(CalendarYear.year).where(CalendarYear.tenant_id == tenant.id))
        )
        return render(
            request,
            db,
            tenant,
            "admin/calendar.html",
            overrides=overrides,
            confirmed=years,
            national=national_years(),
            error=error,
            warnings=calendar_warnings(db, tenant),
            this_year=date.today().year,
            status_code=422 if error else 200,
        )

    @get("/", name="calendar_admin", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        require_staff(principal, Role.tenant_admin)
        return self._page(request, db, tenant)

    @post("/days", name="calendar_day", sync_to_thread=True)
    def day(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        me = require_staff(principal, Role.tenant_admin)
        try:
            try:
                day = date.fromisoformat(data.get("day", ""))
            except ValueError:
                raise InvalidInput("日期格式应为 YYYY-MM-DD", field="day") from None
            workday = data.get("workday") == "1"
            set_override(db, tenant, day, workday, data.get("note", ""), actor=me)
        except GovhallError as exc:
            db.rollback()
            return self._page(request, db, tenant, exc.detail)
        db.commit()
        return Redirect(f"/t/{tenant.slug}/admin/calendar/")

    @post("/years", name="calendar_year", sync_to_thread=True)
    def year(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        me = require_staff(principal, Role.tenant_admin)
        try:
            try:
                year = int(data.get("year", ""))
            except ValueError:
                raise InvalidInput("请输入年份", field="year") from None
            confirm_year(db, tenant, year, actor=me)
        except GovhallError as exc:
            db.rollback()
            return self._page(request, db, tenant, exc.detail)
        db.commit()
        return Redirect(f"/t/{tenant.slug}/admin/calendar/")

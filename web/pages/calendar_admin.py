"""The working-day calendar page (tenant admin): national data coverage, the tenant's own
holidays and working days, and confirming a year the national data does not cover."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.calendar import (
    calendar_warnings,
    confirm_year,
    confirmed_years,
    days_entered,
    delete_override,
    inherited_overrides,
    national_years,
    set_override,
)
from core.calendar.models import CalendarOverride, CalendarYear
from core.db import platform_scope
from core.errors import GovhallError, InvalidInput
from core.identity import Principal, Role
from core.tenancy import Tenant
from web.auth import require_staff
from web.flash import with_flash
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
        years = sorted(
            db.scalars(select(CalendarYear.year).where(CalendarYear.tenant_id == tenant.id))
        )
        inherited = inherited_overrides(db, tenant)
        with platform_scope(db) as s:
            names = {
                t.id: t.display_name
                for t in s.scalars(
                    select(Tenant).where(Tenant.id.in_({r.tenant_id for r in inherited}))
                )
            }
        own = {o.day for o in overrides}
        upcoming = date.today().year + 1
        off, on = days_entered(db, tenant, upcoming)
        return render(
            request,
            db,
            tenant,
            "admin/calendar.html",
            overrides=overrides,
            inherited=[(r, names.get(r.tenant_id, ""), r.day in own) for r in inherited],
            confirmed=years,
            confirmed_above=sorted(confirmed_years(db, tenant) - set(years)),
            upcoming=upcoming,
            upcoming_entered=(off, on),
            national=national_years(),
            error=error,
            warnings=calendar_warnings(db, tenant),
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
        return Redirect(with_flash(f"/t/{tenant.slug}/admin/calendar/", msg="已保存"))

    @post("/days/{day:str}/delete", name="calendar_day_delete", sync_to_thread=True)
    def delete(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        day: str,
    ) -> Template | Redirect:
        """Take back one of the tenant's own days (the province's or the national applies)."""
        me = require_staff(principal, Role.tenant_admin)
        try:
            try:
                when = date.fromisoformat(day)
            except ValueError:
                raise InvalidInput("日期格式应为 YYYY-MM-DD", field="day") from None
            delete_override(db, tenant, when, actor=me)
        except GovhallError as exc:
            db.rollback()
            return self._page(request, db, tenant, exc.detail)
        db.commit()
        return Redirect(with_flash(f"/t/{tenant.slug}/admin/calendar/", msg="已删除"))

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
        return Redirect(with_flash(f"/t/{tenant.slug}/admin/calendar/", msg="已确认"))

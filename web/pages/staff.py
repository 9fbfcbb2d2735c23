"""Staff areas: workbench, supervision, tenant admin, province console."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template
from sqlalchemy.orm import Session

from core.identity import Principal, Role
from core.plugins import get_plugin_manager
from core.tenancy import Tenant, list_org_units
from web.auth import require_staff
from web.pages.portal import render


def getting_started(db: Session, tenant: Tenant) -> list[tuple[bool, str, str, str]]:
    """A county administrator's list of what a working service hall needs, each (done, what,
    why, where): departments, staff who accept cases, items citizens can apply for, this
    year's calendar, a real SMS vendor, and the county opened to the public."""
    from sqlalchemy import func, select

    from core.calendar import calendar_warnings
    from core.catalog.models import Item, ItemStatus
    from core.identity import StaffRole
    from core.tenancy import OrgUnitKind, TenantStatus

    base = f"/t/{tenant.slug}"
    units = list_org_units(db)
    departments = sum(1 for u in units if u.kind is OrgUnitKind.department and not u.closed_at)
    clerks = db.scalar(
        select(func.count())
        .select_from(StaffRole)
        .where(StaffRole.tenant_id == tenant.id, StaffRole.role == Role.window_clerk)
    )
    items = db.scalar(
        select(func.count())
        .select_from(Item)
        .where(Item.tenant_id == tenant.id, Item.status == ItemStatus.active)
    )
    manager = get_plugin_manager()
    # a real SMS vendor, not the development one that only writes a file
    sending = {id(i.plugin) for i in manager.pm.hook.register_sms_vendors.get_hookimpls()}
    senders = [
        name
        for name, state in manager.states(db, tenant).items()
        if state.enabled
        and not state.meta.development_only
        and id(manager.pm.get_plugin(name)) in sending
    ]
    return [
        (
            bool(departments),
            "部门",
            "建立本地的实施部门和政务服务中心、窗口",
            base + "/admin/units",
        ),
        (
            bool(clerks),
            "窗口受理员",
            "至少一位窗口受理员，群众的申请才有人受理",
            base + "/admin/staff",
        ),
        (
            bool(items),
            "办事事项",
            "认领省级标准事项或新建本地事项并发布",
            base + "/admin/catalog/adopt",
        ),
        (
            not calendar_warnings(db, tenant),
            "工作日历",
            "录入并确认今明两年的节假日",
            base + "/admin/calendar/",
        ),
        (
            bool(senders),
            "短信服务",
            "启用短信服务商插件并填写账号，群众才能收到验证码和通知",
            base + "/admin/plugins/",
        ),
        (
            tenant.status is not TenantStatus.onboarding,
            "开通服务",
            "本地区尚在筹备中，群众还看不到门户；准备好后请省级管理员开通",
            "",
        ),
    ]


class StaffController(Controller):
    path = "/t/{slug:str}"
    include_in_schema = False

    @get("/workbench", name="workbench", sync_to_thread=True)
    def workbench(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        me = require_staff(principal)
        from core.cases.queue import departments  # the queue's filter (web/pages/workbench.py)

        todo = (
            [g for g in getting_started(db, tenant) if not g[0]]
            if me.has_role(Role.tenant_admin)
            else []
        )
        return render(
            request,
            db,
            tenant,
            "staff/workbench.html",
            me=me,
            departments=departments(db),
            getting_started_left=len(todo),
        )

    @get("/admin", name="admin_home", sync_to_thread=True)
    def admin(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        require_staff(principal, Role.tenant_admin, Role.province_admin)
        manager = get_plugin_manager()
        return render(
            request,
            db,
            tenant,
            "admin/home.html",
            units=list_org_units(db),
            getting_started=getting_started(db, tenant),
            plugins=manager.states(db, tenant),
            errors=manager.recent_errors(db, tenant),
        )

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

        return render(
            request, db, tenant, "staff/workbench.html", me=me, departments=departments(db)
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
            plugins=manager.states(db, tenant),
            errors=manager.recent_errors(db, tenant),
        )

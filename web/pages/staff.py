"""Staff areas: workbench, supervision, tenant admin, province console."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.errors import GovhallError
from core.identity import Principal, Role
from core.plugins import get_plugin_manager
from core.tenancy import Tenant, TenantKind, children_of, list_org_units
from core.tenancy.service import onboard_tenant
from web.auth import require_staff
from web.pages.portal import render
from web.params import Form


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

    @get("/console", name="province_console", sync_to_thread=True)
    def console(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        require_staff(principal, Role.province_admin)
        return render(
            request,
            db,
            tenant,
            "province/console.html",
            counties=children_of(db, tenant),
            form={},
            error=None,
            field=None,
        )

    @post("/console/onboard", name="province_onboard", sync_to_thread=True)
    def onboard(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        require_staff(principal, Role.province_admin)
        try:
            kind = TenantKind(data.get("kind") or "county")
            if kind is TenantKind.province:
                raise GovhallError("a province cannot onboard a province")
            onboard_tenant(
                db,
                parent=tenant,
                slug=data.get("slug", "").strip(),
                name=data.get("name", ""),
                division_code=data.get("division_code", "").strip(),
                kind=kind,
                actor_tenant=tenant,
            )
        except (GovhallError, ValueError) as exc:
            db.rollback()
            detail = exc.detail if isinstance(exc, GovhallError) else "类型无效"
            field = exc.field if isinstance(exc, GovhallError) else "kind"
            return render(
                request,
                db,
                tenant,
                "province/console.html",
                counties=children_of(db, tenant),
                form=data,
                error=detail,
                field=field,
                status_code=422,
            )
        db.commit()
        return Redirect(f"/t/{tenant.slug}/console?onboarded={data.get('slug', '')}")

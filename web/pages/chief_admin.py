"""首席代表 (tenant admin): which staff member is delegated which items, to accept and decide
them on the spot (core/cases/chief.py); each change is on the audit log."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import chief
from core.catalog.models import Item
from core.errors import GovhallError
from core.identity import Principal, Role, Staff
from core.tenancy import Tenant
from web.auth import require_staff
from web.flash import with_flash
from web.pages.portal import render
from web.params import Form

__all__ = ["ChiefAdminPages"]


class ChiefAdminPages(Controller):
    path = "/t/{slug:str}/admin/chief-representatives"
    include_in_schema = False

    def _page(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        *,
        form: dict[str, str] | None = None,
        error: str = "",
        status_code: int = 200,
    ) -> Template:
        staff = list(db.scalars(select(Staff).where(Staff.active).order_by(Staff.username)))
        names = dict(db.execute(select(Item.code, Item.name)).all())
        people = {s.username: s for s in staff}
        rows = [
            (people.get(username), username, [(c, names.get(c, c)) for c in codes])
            for username, codes in sorted(chief.delegations(tenant).items())
        ]
        return render(
            request,
            db,
            tenant,
            "admin/chief_representatives.html",
            rows=rows,
            staff=staff,
            form=form or {},
            error=error,
            msg=request.query_params.get("msg", ""),
            status_code=status_code,
        )

    @get("/", name="chief_admin", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        require_staff(principal, Role.tenant_admin)
        return self._page(request, db, tenant)

    @post("/", name="chief_admin_save", sync_to_thread=True)
    def save(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        me = require_staff(principal, Role.tenant_admin)
        username = (data.get("username") or "").strip()
        items = (data.get("items") or "").replace("，", ",").replace("、", ",").split(",")
        try:
            chief.set_delegation(db, tenant, me, username, items)
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._page(
                request, db, tenant, form=dict(data), error=exc.detail, status_code=exc.status
            )
        url = f"/t/{tenant.slug}/admin/chief-representatives/"
        return Redirect(with_flash(url, msg="已保存首席代表授权"))

    @post("/{username:str}/remove", name="chief_admin_remove", sync_to_thread=True)
    def remove(
        self, tenant: Tenant, db: Session, principal: Principal | None, username: str
    ) -> Redirect:
        me = require_staff(principal, Role.tenant_admin)
        chief.set_delegation(db, tenant, me, username, [])
        db.commit()
        url = f"/t/{tenant.slug}/admin/chief-representatives/"
        return Redirect(with_flash(url, msg="已取消授权"))

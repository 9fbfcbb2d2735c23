"""The departments' seals page (tenant admin): each department with the seal image its notices
carry, a PNG upload to set or replace it, and removal."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from core.audit import record
from core.cases import seals
from core.errors import GovhallError, InvalidInput, NotFound
from core.identity import Principal, Role
from core.tenancy import Tenant
from web.auth import require_staff
from web.pages.portal import render
from web.params import Upload

__all__ = ["SealsAdminPages"]


class SealsAdminPages(Controller):
    path = "/t/{slug:str}/admin/seals"
    include_in_schema = False

    def _page(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        *,
        failed: str = "",
        error: str = "",
        status_code: int = 200,
    ) -> Template:
        units = seals.departments(db, tenant)
        return render(
            request,
            db,
            tenant,
            "admin/seals.html",
            units=[(u, seals.department_name(tenant, u.name)) for u in units],
            failed=failed,
            error=error,
            saved=request.query_params.get("saved", ""),
            removed=request.query_params.get("removed", ""),
            max_kb=seals.SEAL_MAX_BYTES // 1024,
            max_px=seals.SEAL_MAX_PIXELS,
            status_code=status_code,
        )

    @get("/", name="seals_admin", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        require_staff(principal, Role.tenant_admin)
        return self._page(request, db, tenant)

    @get("/{code:str}/image", name="seal_image", sync_to_thread=True)
    def image(
        self, tenant: Tenant, db: Session, principal: Principal | None, code: str
    ) -> Response[bytes]:
        require_staff(principal, Role.tenant_admin)
        unit = next((u for u in seals.departments(db, tenant) if u.code == code), None)
        data = seals.seal_image(tenant.id, unit.seal_key) if unit else None
        if data is None:
            raise NotFound("该部门未配置印章", field="code")
        return Response(
            data,
            media_type="image/png",
            headers={"cache-control": "private, no-store", "x-content-type-options": "nosniff"},
        )

    @post("/{code:str}", name="seal_upload", sync_to_thread=True)
    def upload(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        data: Upload,
    ) -> Template | Redirect:
        me = require_staff(principal, Role.tenant_admin)
        units = {u.code: u for u in seals.departments(db, tenant)}
        if code not in units:
            raise NotFound("部门不存在", field="code")
        had = bool(units[code].seal_key)
        file = data.get("file")
        try:
            if not isinstance(file, UploadFile):
                raise InvalidInput("请选择印章图片", field="file")
            unit = seals.set_seal(db, tenant, code, file.file.read(seals.SEAL_MAX_BYTES + 1))
            record(
                db,
                tenant,
                me,
                "seal.upload",
                target_type="seal",
                target_id=code,
                target_label=seals.department_name(tenant, unit.name),
                before={"seal": "已配置" if had else "未配置"},
                after={"seal": "已更换" if had else "已配置"},
            )
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._page(
                request, db, tenant, failed=code, error=exc.detail, status_code=exc.status
            )
        return Redirect(f"/t/{tenant.slug}/admin/seals/?saved={quote(code)}#unit-{quote(code)}")

    @post("/{code:str}/remove", name="seal_remove", sync_to_thread=True)
    def remove(
        self, tenant: Tenant, db: Session, principal: Principal | None, code: str
    ) -> Redirect:
        me = require_staff(principal, Role.tenant_admin)
        had = any(u.code == code and u.seal_key for u in seals.departments(db, tenant))
        unit = seals.remove_seal(db, tenant, code)
        if had:
            record(
                db,
                tenant,
                me,
                "seal.upload",
                target_type="seal",
                target_id=code,
                target_label=seals.department_name(tenant, unit.name),
                before={"seal": "已配置"},
                after={"seal": "已移除"},
            )
        db.commit()
        return Redirect(f"/t/{tenant.slug}/admin/seals/?removed={quote(code)}#unit-{quote(code)}")

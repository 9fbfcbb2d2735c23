"""Portal pages of joint approval: the bundles a county offers, and the one combined form
(一表通) that opens them."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.cases import bundles, service
from core.catalog import get_item_by_code
from core.errors import GovhallError, NotFound
from core.identity import Principal
from core.tenancy import Tenant
from web.auth import require
from web.pages.cases import back
from web.pages.portal import render
from web.params import Form

__all__ = ["BundlePages"]


def _items(db: Session, tenant: Tenant, bundle: bundles.Bundle) -> list[tuple[str, str, bool]]:
    out = []
    for entry in bundle.items:
        try:
            name = get_item_by_code(db, tenant, entry.item).name
        except NotFound:
            name = entry.item
        out.append((entry.item, name, entry.required))
    return out


class BundlePages(Controller):
    path = "/t/{slug:str}/bundles"
    include_in_schema = False

    @get("/", name="bundles", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], tenant: Tenant, db: Session) -> Template:
        offered = list(bundles.bundles_of(db, tenant).values())
        return render(
            request,
            db,
            tenant,
            "bundles/list.html",
            bundles=[(b, _items(db, tenant, b)) for b in offered],
        )

    def _form(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        code: str,
        *,
        values: dict[str, str] | None = None,
        error: str = "",
        field: str | None = None,
        status_code: int = 200,
    ) -> Template:
        bundle = bundles.bundles_of(db, tenant).get(code)
        if bundle is None:
            raise NotFound(f"联办事项 {code} 不存在", field="bundle")
        return render(
            request,
            db,
            tenant,
            "bundles/apply.html",
            bundle=bundle,
            items=_items(db, tenant, bundle),
            values=values or {},
            key=(values or {}).get("key") or secrets.token_urlsafe(16),
            error=error,
            field=field,
            status_code=status_code,
        )

    @get("/{code:str}", name="bundle_apply_form", sync_to_thread=True)
    def apply_form(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
    ) -> Template:
        require(principal)
        return self._form(request, tenant, db, code)

    @post("/{code:str}", name="bundle_apply", sync_to_thread=True)
    def apply(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        data: Form,
    ) -> Template | Redirect:
        who = require(principal)
        form = {k[5:]: v for k, v in data.items() if k.startswith("form_")}
        try:
            parent, _ = bundles.open_bundle(
                db,
                tenant,
                who,
                code,
                form=form,
                idempotency_key=(data.get("key") or "")[:80] or None,
            )
            service.commit(db)
        except GovhallError as exc:
            db.rollback()
            if exc.status != 422:
                raise
            return self._form(
                request,
                tenant,
                db,
                code,
                values=dict(data),
                error=exc.detail,
                field=(exc.field or "").removeprefix("form."),
                status_code=422,
            )
        return back(
            f"/t/{tenant.slug}/my/cases/{parent.number}",
            msg="已创建联办申请：请为每个事项上传材料，然后统一提交。",
        )

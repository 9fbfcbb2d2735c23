"""Portal pages of joint approval: the bundles a county offers, and the one combined form
(一表通) that opens them."""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.cases import bundles, forms, service
from core.catalog import get_item_by_code
from core.errors import GovhallError, NotFound
from core.forms import FormInvalid
from core.identity import Principal
from core.tenancy import Tenant
from web.auth import require
from web.formdata import parse_posted, row_buttons, summary, view_of
from web.pages.cases import back
from web.pages.my import real_name_first
from web.pages.portal import render
from web.params import POSTED

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
        who: Principal,
        code: str,
        *,
        raw: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        extra_rows: dict[str, int] | None = None,
        key: str = "",
        error: str = "",
        status_code: int = 200,
    ) -> Template:
        bundle = bundles.bundles_of(db, tenant).get(code)
        if bundle is None:
            raise NotFound(f"联办事项 {code} 不存在", field="bundle")
        fields = bundles.combined_form(db, tenant, bundle)
        if raw is None:
            applicant = who.id if who.is_account else None
            raw = forms.prefill_for(db, tenant, applicant, bundle.code, fields, {})
        return render(
            request,
            db,
            tenant,
            "bundles/apply.html",
            bundle=bundle,
            items=_items(db, tenant, bundle),
            views=view_of(fields, raw, errors, extra_rows=extra_rows, home=tenant.division_code),
            problem_list=summary(fields, errors or {}),
            key=key or secrets.token_urlsafe(16),
            error=error,
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
    ) -> Template | Redirect:
        who = require(principal)
        first = real_name_first(db, tenant, who, f"/t/{tenant.slug}/bundles/{quote(code)}")
        if first is not None:  # a person confirms their name and ID number first, then back
            return first
        return self._form(request, tenant, db, who, code)

    @post("/{code:str}", name="bundle_apply", sync_to_thread=True, dependencies=POSTED)
    def apply(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        posted: FormMultiDict,
    ) -> Template | Redirect:
        who, data = require(principal), posted
        first = real_name_first(db, tenant, who, f"/t/{tenant.slug}/bundles/{quote(code)}")
        if first is not None:
            return first
        bundle = bundles.bundles_of(db, tenant).get(code)
        if bundle is None:
            raise NotFound(f"联办事项 {code} 不存在", field="bundle")
        raw = parse_posted(data, bundles.combined_form(db, tenant, bundle))
        key = str(data.get("key") or "")[:80]
        page = partial(self._form, request, tenant, db, who, code, raw=raw, key=key)
        only_rows, added = row_buttons(data, raw)
        if only_rows:
            return page(extra_rows=added)
        try:
            parent, _ = bundles.open_bundle(db, tenant, who, code, form=raw, idempotency_key=key)
            service.commit(db)
        except FormInvalid as exc:
            db.rollback()
            return page(errors=exc.problems, error=exc.detail, status_code=422)
        except GovhallError as exc:
            db.rollback()
            if exc.status != 422:
                raise
            return page(error=exc.detail, status_code=422)
        return back(
            f"/t/{tenant.slug}/my/cases/{parent.number}",
            msg="已创建联办申请：请为每个事项上传材料，然后核对并统一提交。",
        )

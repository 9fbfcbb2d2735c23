"""What the county administration's pages share: who may use them, how a page is rendered
with the entered-province banner and the redirect's message, and the org-unit chooser."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy.orm import Session

from core.identity import Principal, Role
from core.tenancy import Tenant
from core.tenancy import units as org_units
from web.auth import entered_from, require_staff
from web.pages.portal import render

__all__ = ["admin_of", "admin_page", "unit_choices"]


def admin_of(principal: Principal | None, tenant: Tenant) -> Principal:
    """A tenant admin of ``tenant`` (a province's own admin in the province, too)."""
    if tenant.is_province:
        return require_staff(principal, Role.tenant_admin, Role.province_admin)
    return require_staff(principal, Role.tenant_admin)


def _flash(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {
        "msg": request.query_params.get("msg", ""),
        "error": request.query_params.get("error", ""),
    }


def admin_page(
    request: Request[Any, Any, Any],
    db: Session,
    tenant: Tenant,
    name: str,
    me: Principal,
    **ctx: Any,
) -> Template:
    """An admin page with the entered-province banner's facts and the redirect's message
    (shown only when signed: :func:`web.flash.checked`, applied by ``render``)."""
    entered = entered_from(me, tenant)
    for key, value in _flash(request).items():
        ctx.setdefault(key, value)
    return render(request, db, tenant, name, entered=entered, **ctx)


def unit_choices(db: Session, tenant: Tenant) -> list[tuple[str, str]]:
    """(code, name indented by depth) of every open unit, tree order, for a chooser."""
    nodes = org_units.flatten(org_units.unit_tree(db, tenant, include_closed=False))
    return [(n.unit.code, "\u3000" * n.depth + n.unit.name) for n in nodes]

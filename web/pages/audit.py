"""The audit log pages: a county's own (系统管理 → 审计日志) and a province's or city's over every
tenant it runs (省级管理 → 审计日志), with filters, verification of the chain and CSV export."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.response import Response, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import (
    AUDIT_ACTIONS,
    AuditEntry,
    AuditFilter,
    AuditPage,
    ChainReport,
    action_label,
    csv_bytes,
    describe,
    entries,
    local_time,
    verify_chain,
)
from core.db import platform_scope
from core.errors import NotFound
from core.identity import Principal, Role
from core.tenancy import Tenant, TenantKind
from web.auth import require_staff
from web.pages.portal import render
from web.paging import page_number

__all__ = [
    "AuditAdminPages",
    "AuditConsolePages",
    "AuditView",
    "actor_line",
    "audit_filter",
    "scope_tenants",
    "verify_all",
    "views",
]

PAGE_SIZE = 30
_TZ = timezone(timedelta(hours=8))
#: who a person is when they come from another tenant (省级管理员 · 广西壮族自治区)
_HOME_ROLE = {
    TenantKind.province: "省级管理员",
    TenantKind.city: "市级管理员",
    TenantKind.county: "县级管理员",
    TenantKind.district: "区级管理员",
}
_ACTOR_KIND = {"cli": "命令行", "system": "系统后台"}


def scope_tenants(db: Session, tenant: Tenant, *, console: bool) -> list[Tenant]:
    """The tenants whose entries this page shows: the tenant itself, or for a console the
    province and every tenant in it, a city and its districts and counties."""
    if not console:
        return [tenant]
    with platform_scope(db) as s:
        if tenant.is_province:
            rows = s.scalars(select(Tenant).where(Tenant.province_id == tenant.id)).all()
        else:
            rows = s.scalars(select(Tenant).where(Tenant.parent_id == tenant.id)).all()
        found = [t for t in rows if t.id != tenant.id]
    found.sort(key=lambda t: t.division_code)
    return [tenant, *found]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def audit_filter(params: Any, tenants: list[Tenant]) -> tuple[AuditFilter, dict[str, str]]:
    """The filters a query string asks for (dates are Beijing days, ``until`` inclusive),
    and the values to show back in the form."""
    form = {k: str(params.get(k) or "").strip() for k in ("action", "who", "since", "until", "q")}
    form["tenant"] = str(params.get("tenant") or "").strip()
    chosen = [t.id for t in tenants if t.slug == form["tenant"]]
    since, until = _day(form["since"]), _day(form["until"])
    f = AuditFilter(
        tenant_ids=chosen or [t.id for t in tenants],
        actions=[form["action"]] if form["action"] in AUDIT_ACTIONS else [],
        actor=form["who"],
        since=datetime.combine(since, time(), _TZ) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), _TZ) if until else None,
        text=form["q"],
    )
    if form["action"] not in AUDIT_ACTIONS:
        form["action"] = ""
    if not chosen:
        form["tenant"] = ""
    return f, form


def actor_line(entry: AuditEntry, homes: dict[uuid.UUID, Tenant]) -> str:
    """Who, in words: the name, and where the person came from when not from this tenant."""
    name = entry.actor_name or _ACTOR_KIND.get(entry.actor_kind, "")
    home = homes.get(entry.actor_tenant_id) if entry.actor_tenant_id else None
    if home is not None:
        return f"{name}（{_HOME_ROLE.get(home.kind, '上级管理员')} · {home.name}）"
    return name


def _homes(db: Session, page: AuditPage, known: list[Tenant]) -> dict[uuid.UUID, Tenant]:
    homes = {t.id: t for t in known}
    missing = {e.actor_tenant_id for e in page.items if e.actor_tenant_id} - set(homes)
    if missing:
        with platform_scope(db) as s:
            homes.update({t.id: t for t in s.scalars(select(Tenant).where(Tenant.id.in_(missing)))})
    return homes


@dataclass
class AuditView:
    """One entry as the page, the API and the CSV show it."""

    entry: AuditEntry
    when: str
    tenant: str
    who: str
    what: str
    lines: list[str]


def views(
    db: Session, page: AuditPage, tenants: list[Tenant], *, list_limit: int | None = 12
) -> list[AuditView]:
    homes = _homes(db, page, tenants)
    names = {t.id: t.name for t in tenants}
    return [
        AuditView(
            e,
            local_time(e.at),
            names.get(e.tenant_id, ""),
            actor_line(e, homes),
            action_label(e.action),
            describe(e, list_limit=list_limit),
        )
        for e in page.items
    ]


def verify_all(db: Session, tenants: list[Tenant]) -> list[tuple[Tenant, ChainReport]]:
    return [(t, verify_chain(db, t)) for t in tenants]


def _console_tenant(tenant: Tenant) -> None:
    if tenant.kind not in (TenantKind.province, TenantKind.city):
        raise NotFound("本地区没有下辖地区的管理页面")


def _export(db: Session, tenant: Tenant, tenants: list[Tenant], f: AuditFilter) -> Response[bytes]:
    page = entries(db, tenant.province_id, f, limit=10000)
    homes = _homes(db, page, tenants)
    body = csv_bytes(
        page.items,
        tenant_names={t.id: t.name for t in tenants},
        actor_line=lambda e: actor_line(e, homes),
    )
    name = f"audit-{tenant.slug}-{date.today():%Y%m%d}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "private, no-store",
        },
    )


def _page(
    request: Request[Any, Any, Any],
    db: Session,
    tenant: Tenant,
    tenants: list[Tenant],
    *,
    console: bool,
    home: tuple[str, str] | None = None,
) -> Template:
    f, form = audit_filter(request.query_params, tenants)
    number = page_number(request.query_params.get("page"))
    page = entries(db, tenant.province_id, f, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    checked = None
    if request.query_params.get("verify"):
        scope = [t for t in tenants if t.id in set(f.tenant_ids)]
        checked = verify_all(db, scope)
    query = {k: v for k, v in form.items() if v}
    base_path = f"/t/{tenant.slug}/{'console' if console else 'admin'}/audit"
    return render(
        request,
        db,
        tenant,
        "province/audit.html" if console else "admin/audit.html",
        items=views(db, page, tenants),
        page=page,
        number=number,
        form=form,
        actions=sorted(AUDIT_ACTIONS.items(), key=lambda kv: kv[0]),
        tenants=tenants,
        checked=checked,
        broken=[(t, r) for t, r in checked or [] if not r.intact],
        audit_path=base_path,
        home=home,
        export_url=f"{base_path}/export.csv" + (f"?{urlencode(query)}" if query else ""),
        verify_url=f"{base_path}?{urlencode({**query, 'verify': '1'})}",
        prev_url=f"{base_path}?{urlencode({**query, 'page': number - 1})}" if number > 1 else "",
        next_url=(
            f"{base_path}?{urlencode({**query, 'page': number + 1})}" if page.has_more else ""
        ),
    )


class AuditAdminPages(Controller):
    """A tenant admin's log of the changes made in the tenant."""

    path = "/t/{slug:str}/admin/audit"
    include_in_schema = False

    @get("/", name="admin_audit", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        # the supervisors (电子监察) read it too: who changed what in the county's setup
        me = require_staff(principal, Role.tenant_admin, Role.supervisor)
        # the way back: a supervisor came from 电子监察 (系统管理 would be a 403 for them)
        home = (
            ("系统管理", f"/t/{tenant.slug}/admin")
            if me.has_role(Role.tenant_admin)
            else ("电子监察", f"/t/{tenant.slug}/supervision")
        )
        return _page(request, db, tenant, [tenant], console=False, home=home)

    @get("/export.csv", name="admin_audit_export", sync_to_thread=True)
    def export(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Response[bytes]:
        require_staff(principal, Role.tenant_admin, Role.supervisor)
        f, _ = audit_filter(request.query_params, [tenant])
        return _export(db, tenant, [tenant], f)


class AuditConsolePages(Controller):
    """A province's (or a city's) log of the changes in every tenant it runs."""

    path = "/t/{slug:str}/console/audit"
    include_in_schema = False

    @get("/", name="console_audit", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        _console_tenant(tenant)
        require_staff(principal, Role.province_admin)
        return _page(request, db, tenant, scope_tenants(db, tenant, console=True), console=True)

    @get("/export.csv", name="console_audit_export", sync_to_thread=True)
    def export(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Response[bytes]:
        _console_tenant(tenant)
        require_staff(principal, Role.province_admin)
        tenants = scope_tenants(db, tenant, console=True)
        f, _ = audit_filter(request.query_params, tenants)
        return _export(db, tenant, tenants, f)

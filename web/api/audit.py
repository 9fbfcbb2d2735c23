"""API: the audit log of administrative changes, filtered and paged, and its verification."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get
from sqlalchemy.orm import Session

from core.audit import action_label, entries
from core.identity import Principal, Role
from core.tenancy import Tenant, TenantKind
from web.api.scoped import needs
from web.auth import require_staff
from web.pages.audit import AuditView, audit_filter, scope_tenants, verify_all, views
from web.paging import clamp_window

__all__ = ["AuditApi"]


class AuditEntryOut(msgspec.Struct):
    seq: int
    at: datetime
    #: the Beijing time, as the pages show it
    at_local: str
    tenant: str
    tenant_name: str
    action: str
    action_label: str
    actor_kind: str
    actor_name: str
    #: who in words, with where the person came from (省级管理员 · 广西壮族自治区)
    actor_label: str
    origin: str
    target_type: str
    target_id: str
    target_label: str
    #: only what changed; a secret is never here, only that it changed (已更改)
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    #: before → after in plain Chinese lines
    changes: list[str]
    reason: str
    hash: str


class AuditListOut(msgspec.Struct):
    total: int
    offset: int
    limit: int
    items: list[AuditEntryOut]


class ChainOut(msgspec.Struct):
    tenant: str
    tenant_name: str
    intact: bool
    entries: int
    broken_at: int | None
    problem: str


class VerifyOut(msgspec.Struct):
    intact: bool
    chains: list[ChainOut]


def _scope(db: Session, tenant: Tenant, principal: Principal | None) -> list[Tenant]:
    """A province's or city's admin reads every tenant it runs; a tenant admin its own."""
    me = require_staff(principal, Role.tenant_admin, Role.province_admin)
    console = me.has_role(Role.province_admin) and tenant.kind in (
        TenantKind.province,
        TenantKind.city,
    )
    if not console:
        require_staff(principal, Role.tenant_admin)
    return scope_tenants(db, tenant, console=console)


def _out(v: AuditView, slugs: dict[Any, str]) -> AuditEntryOut:
    e = v.entry
    return AuditEntryOut(
        seq=e.seq,
        at=e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC),
        at_local=v.when,
        tenant=slugs.get(e.tenant_id, ""),
        tenant_name=v.tenant,
        action=e.action,
        action_label=action_label(e.action),
        actor_kind=e.actor_kind,
        actor_name=e.actor_name,
        actor_label=v.who,
        origin=e.origin,
        target_type=e.target_type,
        target_id=e.target_id,
        target_label=e.target_label,
        before=e.before,
        after=e.after,
        changes=v.lines,
        reason=e.reason,
        hash=e.hash,
    )


class AuditApi(Controller):
    path = "/api/v1/t/{slug:str}/audit"
    tags = ["audit"]

    @get(
        "/",
        summary="The audit log, newest first (admin). Filters: tenant (a slug, for a province "
        "or city), action, who, q (the target), since and until (YYYY-MM-DD, Beijing days).",
        sync_to_thread=True,
        **needs("admin"),
    )
    def list_entries(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        limit: int = 50,
        offset: int = 0,
    ) -> AuditListOut:
        tenants = _scope(db, tenant, principal)
        f, _ = audit_filter(request.query_params, tenants)
        limit, offset = clamp_window(limit, offset, most=500)
        page = entries(db, tenant.province_id, f, limit=limit, offset=offset)
        slugs = {t.id: t.slug for t in tenants}
        return AuditListOut(
            total=page.total,
            offset=offset,
            limit=limit,
            items=[_out(v, slugs) for v in views(db, page, tenants, list_limit=None)],
        )

    @get(
        "/verify",
        summary="Verify the hash chain of each tenant's log (admin)",
        sync_to_thread=True,
        **needs("admin"),
    )
    def verify(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
    ) -> VerifyOut:
        tenants = _scope(db, tenant, principal)
        f, _ = audit_filter(request.query_params, tenants)
        chosen = [t for t in tenants if t.id in set(f.tenant_ids)]
        chains = [
            ChainOut(t.slug, t.name, r.intact, r.entries, r.broken_at, r.problem)
            for t, r in verify_all(db, chosen)
        ]
        return VerifyOut(intact=all(c.intact for c in chains), chains=chains)

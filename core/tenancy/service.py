"""Tenant lookup, onboarding and lifecycle; org-unit management."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Scope, new_id
from core.errors import Forbidden, InvalidInput
from core.tenancy.errors import TenantExists, TenantNotFound
from core.tenancy.models import OrgUnit, OrgUnitKind, Tenant, TenantDomain, TenantKind, TenantStatus

__all__ = [
    "RESERVED_SLUGS",
    "active_tenants",
    "SLUG_RE",
    "check_slug",
    "add_org_unit",
    "check_division_code",
    "children_of",
    "get_tenant",
    "get_tenant_by_host",
    "get_tenant_by_slug",
    "list_org_units",
    "list_tenants",
    "onboard_tenant",
    "set_tenant_status",
]

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")

#: Slugs a tenant may not take: the first segment of a platform route (a tenant's own domain
#: maps ``/x`` to ``/t/{slug}/x``, and exemptions such as CSRF's are made per platform
#: route), and names people would take for the platform itself. A web test keeps this list
#: covering every top-level segment the app serves.
RESERVED_SLUGS = frozenset(
    {
        "t",
        "api",
        "schema",
        "healthz",
        "oauth",
        "static",
        "lang",
        "elder",
        "well-known",
        "admin",
        "assets",
        "console",
        "docs",
        "favicon",
        "favicon.ico",
        "files",
        "login",
        "logout",
        "metrics",
        "platform",
        "robots",
        "sitemap",
        "status",
        "www",
    }
)
_CODE_RE = re.compile(r"^\d{6}$")


def get_tenant_by_slug(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise TenantNotFound("没有这个地区的网上办事大厅，请从平台首页选择")
    return tenant


def get_tenant(session: Session, tenant_id: uuid.UUID) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise TenantNotFound("no such tenant")
    return tenant


def get_tenant_by_host(session: Session, host: str) -> Tenant | None:
    host = host.split(":", 1)[0].lower()
    row = session.get(TenantDomain, host)
    return session.get(Tenant, row.tenant_id) if row else None


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.division_code)))


def active_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).where(Tenant.status == TenantStatus.active)))


def children_of(session: Session, tenant: Tenant) -> list[Tenant]:
    return list(
        session.scalars(
            select(Tenant).where(Tenant.parent_id == tenant.id).order_by(Tenant.division_code)
        )
    )


def check_division_code(code: str, kind: TenantKind, parent: Tenant | None) -> None:
    """GB/T 2260: two digits province, two city, two county; children share the prefix."""
    if not _CODE_RE.match(code):
        raise InvalidInput("division code must be six digits (GB/T 2260)", field="division_code")
    if kind is TenantKind.province:
        if not code.endswith("0000"):
            raise InvalidInput("a province's division code ends in 0000", field="division_code")
        if parent is not None:
            raise InvalidInput("a province has no parent tenant", field="parent")
        return
    if parent is None:
        raise InvalidInput("a city or county needs its parent tenant", field="parent")
    if kind is TenantKind.city and not code.endswith("00"):
        raise InvalidInput("a city's division code ends in 00", field="division_code")
    prefix = parent.division_code[:2] if parent.is_province else parent.division_code[:4]
    if not code.startswith(prefix) or code == parent.division_code:
        raise InvalidInput(
            f"division code {code} is not inside {parent.name} ({parent.division_code})",
            field="division_code",
        )


def check_slug(slug: str) -> None:
    """A slug a new tenant may take: its URL name, never a platform route's."""
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            "标识应为 2–40 位小写字母、数字或“-”，以字母开头（如 yizhou）", field="slug"
        )
    if slug in RESERVED_SLUGS:
        raise InvalidInput(
            f"标识“{slug}”是平台保留字（与 /{slug}/ 等平台地址冲突），请换一个", field="slug"
        )


def onboard_tenant(
    session: Session,
    *,
    parent: Tenant | None,
    slug: str,
    name: str,
    division_code: str,
    kind: TenantKind = TenantKind.county,
    branding: dict[str, Any] | None = None,
    actor_tenant: Tenant | None = None,
) -> Tenant:
    """Create a tenant in ``onboarding`` state under ``parent`` (the caller commits).

    ``actor_tenant``, when given, is the province whose admin asks: it may onboard only
    inside itself.
    """
    check_slug(slug)
    if not name.strip():
        raise InvalidInput("请填写名称", field="name")
    if actor_tenant is not None and (parent is None or parent.province_id != actor_tenant.id):
        raise Forbidden("a province admin onboards only inside its own province")
    check_division_code(division_code, kind, parent)
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise TenantExists(f"标识“{slug}”已被使用", field="slug")
    if session.scalar(select(Tenant.id).where(Tenant.division_code == division_code)):
        raise TenantExists(f"行政区划代码 {division_code} 已被使用", field="division_code")
    tenant_id = new_id()
    tenant = Tenant(
        id=tenant_id,
        slug=slug,
        name=name.strip(),
        kind=kind,
        division_code=division_code,
        parent_id=parent.id if parent else None,
        province_id=parent.province_id if parent else tenant_id,
        status=TenantStatus.onboarding,
        branding=branding or {"display_name": name.strip()},
        settings={},
    )
    session.add(tenant)
    session.flush()
    return tenant


_ALLOWED_MOVES = {
    TenantStatus.onboarding: {TenantStatus.active, TenantStatus.suspended},
    TenantStatus.active: {TenantStatus.suspended},
    TenantStatus.suspended: {TenantStatus.active},
}


def set_tenant_status(tenant: Tenant, status: TenantStatus) -> None:
    """Lifecycle: onboarding → active → suspended (and back to active)."""
    if status == tenant.status:
        return
    if status not in _ALLOWED_MOVES[tenant.status]:
        raise InvalidInput(f"a tenant cannot go from {tenant.status} to {status}", field="status")
    tenant.status = status


def list_org_units(session: Session) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).order_by(OrgUnit.code)))


def add_org_unit(
    session: Session,
    tenant: Tenant,
    *,
    code: str,
    name: str,
    kind: OrgUnitKind,
    parent: OrgUnit | None = None,
    **fields: str,
) -> OrgUnit:
    unit = OrgUnit(
        tenant_id=tenant.id,
        id=new_id(),
        code=code,
        name=name,
        kind=kind,
        parent_id=parent.id if parent else None,
        **fields,
    )
    session.add(unit)
    return unit


def scope_for(tenant: Tenant) -> Scope:
    """The session scope for work inside ``tenant``."""
    return Scope(tenant_id=tenant.id, province_id=tenant.province_id)

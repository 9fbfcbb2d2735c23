"""Tenant lookup, onboarding and lifecycle; org-unit management."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Scope, new_id
from core.divisions import division
from core.errors import Forbidden, InvalidInput
from core.tenancy.errors import TenantExists, TenantNotFound
from core.tenancy.models import OrgUnit, OrgUnitKind, Tenant, TenantDomain, TenantKind, TenantStatus

__all__ = [
    "KIND_LABELS",
    "RESERVED_SLUGS",
    "STATUS_LABELS",
    "division_name",
    "manages",
    "may_onboard_under",
    "tenant_tree",
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
        raise TenantNotFound("没有这个地区")
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


def division_name(code: str) -> str | None:
    """The standard (GB/T 2260) name of ``code``, e.g. 451203 → 宜州区; None when unknown."""
    found = division(code)
    return found.name if found else None


def check_division_code(code: str, kind: TenantKind, parent: Tenant | None) -> None:
    """GB/T 2260: two digits province, two city, two county; children share the prefix.

    A city hangs under a province; a county or district under its province or its city.
    """
    if not _CODE_RE.match(code):
        raise InvalidInput("行政区划代码应为 6 位数字（GB/T 2260）", field="division_code")
    if kind is TenantKind.province:
        if not code.endswith("0000"):
            raise InvalidInput("省级行政区划代码以 0000 结尾", field="division_code")
        if parent is not None:
            raise InvalidInput("省级地区没有上级", field="parent")
        return
    if parent is None:
        raise InvalidInput("请选择上级地区", field="parent")
    if kind is TenantKind.city:
        if not parent.is_province:
            raise InvalidInput("市级地区的上级应是省", field="parent")
        if not code.endswith("00") or code.endswith("0000"):
            raise InvalidInput("市级行政区划代码以 00 结尾（如 451200）", field="division_code")
    elif parent.kind not in (TenantKind.province, TenantKind.city):
        raise InvalidInput("县（区）的上级应是省或市", field="parent")
    elif code.endswith("00"):
        raise InvalidInput("县（区）的行政区划代码不以 00 结尾（如 451203）", field="division_code")
    prefix = parent.division_code[:2] if parent.is_province else parent.division_code[:4]
    if not code.startswith(prefix) or code == parent.division_code:
        raise InvalidInput(
            f"行政区划代码 {code} 不在{parent.name}（{parent.division_code}）之内，"
            f"应以 {prefix} 开头",
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

    ``actor_tenant``, when given, is the tenant whose admin asks: a province onboards
    anywhere inside itself, a city only its own districts and counties.
    """
    check_slug(slug)
    if not name.strip():
        raise InvalidInput("请填写名称", field="name")
    if actor_tenant is not None and not may_onboard_under(actor_tenant, parent):
        raise Forbidden("只能在本省（市）范围内开通地区")
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


#: how people name each kind of tenant and each state (one vocabulary: pages, API, CLI)
KIND_LABELS = {
    TenantKind.province: "省",
    TenantKind.city: "市",
    TenantKind.county: "县",
    TenantKind.district: "区",
}
STATUS_LABELS = {
    TenantStatus.onboarding: "筹备中",
    TenantStatus.active: "已开通",
    TenantStatus.suspended: "已暂停",
}

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
        raise InvalidInput(
            f"{tenant.name}目前{STATUS_LABELS[tenant.status]}，不能改为{STATUS_LABELS[status]}",
            field="status",
        )
    tenant.status = status


def may_onboard_under(actor_tenant: Tenant, parent: Tenant | None) -> bool:
    """A province's admin onboards under itself or its cities; a city's under itself."""
    if parent is None:
        return False
    if actor_tenant.is_province:
        return parent.province_id == actor_tenant.id
    return actor_tenant.kind is TenantKind.city and parent.id == actor_tenant.id


def manages(actor_tenant: Tenant, target: Tenant) -> bool:
    """Whether ``actor_tenant``'s console runs ``target`` (its province's, or a city's own)."""
    if target.id == actor_tenant.id:
        return False
    if actor_tenant.is_province:
        return target.province_id == actor_tenant.id
    return actor_tenant.kind is TenantKind.city and target.parent_id == actor_tenant.id


def tenant_tree(
    session: Session,
    root: Tenant,
    *,
    kind: TenantKind | None = None,
    status: TenantStatus | None = None,
    parent: Tenant | None = None,
) -> list[tuple[Tenant, int]]:
    """The tenants below ``root`` in tree order with their depth (1: a child of ``root``),
    filtered by kind, status and parent."""
    rows = list(
        session.scalars(
            select(Tenant)
            .where(Tenant.province_id == root.province_id, Tenant.id != root.id)
            .order_by(Tenant.division_code)
        )
    )
    below: dict[uuid.UUID | None, list[Tenant]] = {}
    for row in rows:
        below.setdefault(row.parent_id, []).append(row)
    out: list[tuple[Tenant, int]] = []

    def walk(node_id: uuid.UUID, depth: int) -> None:
        for child in below.get(node_id, []):
            if (
                (kind is None or child.kind is kind)
                and (status is None or child.status is status)
                and (parent is None or child.parent_id == parent.id)
            ):
                out.append((child, depth))
            walk(child.id, depth + 1)

    walk(root.id, 1)
    return out


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

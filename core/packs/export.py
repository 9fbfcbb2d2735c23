"""A tenant's live state written back as a pack (``govhall tenants export SLUG DIR``).

The files are the ones :func:`core.packs.load_packs` reads, so applying the folder right after
changes nothing. Left out on purpose: passwords (only their hashes are stored, and a pack's
password is used only to create an account), citizen accounts (citizens own them), and plugin
secrets (written as the mask ``********``, which applying reads as "keep the saved value").
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalog import DepartmentDuty, Item, Theme, overrides_of
from core.identity.models import Staff, StaffRole
from core.packs.toml_writer import Document
from core.plugins import get_plugin_manager
from core.plugins.models import TenantPlugin
from core.storage import get_storage
from core.tenancy import OrgUnit, Tenant, TenantDomain

__all__ = ["export_pack"]

_BRANDING_KEYS = ("display_name", "primary_color", "accent_color", "footer", "slogan")


def export_pack(session: Session, tenant: Tenant, folder: Path) -> list[str]:
    """Write ``tenant``'s pack into ``folder`` (created if needed); the names of the files."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "tenant.toml": _tenant_file(session, tenant, folder),
        "org.toml": _org_file(session, tenant),
        "people.toml": _people_file(session, tenant),
        "catalog.toml": _catalog_file(session, tenant),
    }
    written = []
    for name, doc in files.items():
        (folder / name).write_text(doc.text(), encoding="utf-8")
        written.append(name)
    logo = (tenant.branding or {}).get("logo")
    if logo:
        written.append("logo" + PurePosixPath(logo).suffix.lower())
    return written


def _tenant_file(session: Session, tenant: Tenant, folder: Path) -> Document:
    parent = session.get(Tenant, tenant.parent_id) if tenant.parent_id else None
    domains = sorted(
        session.scalars(select(TenantDomain.host).where(TenantDomain.tenant_id == tenant.id))
    )
    doc = Document(
        f"租户包：{tenant.name}，由 govhall tenants export 从线上导出",
        "格式见 docs/tenant-packs.md",
    )
    doc.table(
        "tenant",
        {
            "slug": tenant.slug,
            "name": tenant.name,
            "kind": tenant.kind.value,
            "division_code": tenant.division_code,
            "parent": parent.slug if parent else None,
            "status": tenant.status.value,
            "domains": domains,
        },
    )
    live = dict(tenant.branding or {})
    branding: dict[str, Any] = {k: live[k] for k in _BRANDING_KEYS if k in live}
    branding.setdefault("display_name", tenant.name)
    if live.get("logo"):
        name = "logo" + PurePosixPath(live["logo"]).suffix.lower()
        (folder / name).write_bytes(get_storage().read(live["logo"]))
        branding["logo"] = name
    doc.table("branding", branding)
    doc.table("settings", dict(tenant.settings or {}))
    manager = get_plugin_manager()
    rows = session.scalars(
        select(TenantPlugin).where(TenantPlugin.tenant_id == tenant.id).order_by(TenantPlugin.name)
    )
    first = True
    for row in rows:
        if row.name not in manager.metas:
            continue  # a plugin no longer installed: a pack could not name it
        if first:
            doc.lines.append("")
            doc.comment("插件的密钥不导出，写作 ********：再次应用时保留线上已保存的值")
            first = False
        config = manager.meta(row.name).redact(dict(row.config or {}))
        entry = {"name": row.name, "enabled": row.enabled, "config": config}
        doc.table("plugins", entry, array=True)
    return doc


def _org_file(session: Session, tenant: Tenant) -> Document:
    query = select(OrgUnit).where(OrgUnit.tenant_id == tenant.id).order_by(OrgUnit.code)
    units = list(session.scalars(query))
    codes = {u.id: u.code for u in units}
    doc = Document(f"{tenant.name}的机构（由 govhall tenants export 导出）")
    for unit in _parents_first(units):
        doc.table(
            "units",
            {
                "code": unit.code,
                "name": unit.name,
                "kind": unit.kind.value,
                "parent": codes.get(unit.parent_id) if unit.parent_id else None,
                "address": unit.address or None,
                "phone": unit.phone or None,
                "office_hours": unit.office_hours or None,
            },
            array=True,
        )
    return doc


def _parents_first(units: list[OrgUnit]) -> list[OrgUnit]:
    by_id = {u.id: u for u in units}
    done: list[OrgUnit] = []
    seen: set[Any] = set()

    def visit(unit: OrgUnit) -> None:
        if unit.id in seen:
            return
        seen.add(unit.id)
        if unit.parent_id in by_id:
            visit(by_id[unit.parent_id])
        done.append(unit)

    for unit in units:
        visit(unit)
    return done


def _people_file(session: Session, tenant: Tenant) -> Document:
    units = {
        u.id: u.code for u in session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == tenant.id))
    }
    doc = Document(
        f"{tenant.name}的工作人员（由 govhall tenants export 导出）",
        "密码不导出：线上只保存密码的摘要，无法还原；包中的 password 只在创建账号时使用，",
        "再次应用不会改动已有账号的密码。要在另一套系统中新建这些账号，请为每人填写初始密码。",
        "群众账号不导出：账号属于群众本人。手机号为工作联系方式，请像原来的包一样妥善保管本文件。",
    )
    staff = session.scalars(
        select(Staff).where(Staff.tenant_id == tenant.id).order_by(Staff.username)
    )
    for person in staff:
        roles = session.execute(
            select(StaffRole.role, StaffRole.org_unit_id)
            .where(StaffRole.tenant_id == tenant.id, StaffRole.staff_id == person.id)
            .order_by(StaffRole.role)
        ).all()
        doc.table(
            "staff",
            {
                "username": person.username,
                "name": person.name,
                "phone": person.phone or None,
                "roles": [
                    {"role": role.value, "unit": units.get(unit_id) if unit_id else None}
                    for role, unit_id in roles
                ],
            },
            array=True,
        )
    return doc


def _catalog_file(session: Session, tenant: Tenant) -> Document:
    items = list(
        session.scalars(select(Item).where(Item.tenant_id == tenant.id).order_by(Item.code))
    )
    doc = Document(f"{tenant.name}的事项目录（由 govhall tenants export 导出）")
    unpublished = [i.code for i in items if i.live_version_id is None]
    if unpublished:
        doc.comment("尚未发布、没有线上版本的事项不导出：" + "、".join(unpublished))
    for item in items:
        if item.live_version_id is None or item.standard_item_id is None:
            continue
        standard = session.get(Item, (item.standard_tenant_id, item.standard_item_id))
        if standard is None:
            continue
        doc.table(
            "adopt",
            {
                "standard": standard.code,
                "code": item.code if item.code != standard.code else None,
                "overrides": overrides_of(session, item),
            },
            array=True,
        )
    for item in items:
        if item.live_version_id is None or item.standard_item_id is not None:
            continue
        doc.table("items", {"code": item.code, **dict(item.effective or {})}, array=True)
    for theme in session.scalars(
        select(Theme).where(Theme.tenant_id == tenant.id).order_by(Theme.code)
    ):
        doc.table(
            "themes",
            {
                "code": theme.code,
                "name": theme.name,
                "description": theme.description or None,
                "items": list(theme.item_codes or []),
            },
            array=True,
        )
    for duty in session.scalars(
        select(DepartmentDuty)
        .where(DepartmentDuty.tenant_id == tenant.id)
        .order_by(DepartmentDuty.department_code, DepartmentDuty.kind, DepartmentDuty.title)
    ):
        doc.table(
            "duties",
            {
                "department": duty.department_code,
                "kind": duty.kind,
                "title": duty.title,
                "detail": duty.detail or None,
            },
            array=True,
        )
    return doc

"""The onboarding steps that reach across capabilities (staff, plugins, the catalog): the
first county admin, the plugins chosen, adopting the standard catalog, and copying a sibling
county's setup. They live above core's layers because they call several of them; the rules
of each stay in its own capability (core.identity, core.plugins, core.catalog.adoption).
"""

from __future__ import annotations

import importlib
import io
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import record
from core.audit.log import AuditActor
from core.catalog.models import Item, ItemStatus
from core.errors import GovhallError, InvalidInput
from core.identity import Role, Staff, StaffRole
from core.identity.service import create_staff, grant_role, normalize_phone
from core.plugins import get_plugin_manager
from core.plugins.secrets import SECRET_MASK, redact
from core.storage import get_storage, tenant_key
from core.tenancy import OrgUnit, Tenant, add_org_unit, list_org_units
from core.tenancy.onboarding import LOGO_SUFFIX, check_logo, mark_done

__all__ = [
    "CopyReport",
    "adopt_catalog",
    "adoption_available",
    "copy_setup",
    "create_first_admin",
    "existing_admins",
    "mask_phone",
    "set_plugins",
    "store_logo",
]

_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"


def store_logo(tenant: Tenant, data: bytes) -> str:
    """Check an uploaded logo and keep it in storage; its key."""
    content_type = check_logo(data)
    key = tenant_key(tenant.id, "branding", "logo" + LOGO_SUFFIX[content_type])
    get_storage().put(key, io.BytesIO(data), content_type)
    return key


def mask_phone(phone: str | None) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if phone and len(phone) >= 7 else ""


def _temporary_password() -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{body[:5]}-{body[5:]}"


def existing_admins(session: Session, tenant: Tenant) -> list[Staff]:
    return list(
        session.scalars(
            select(Staff)
            .join(
                StaffRole,
                (StaffRole.tenant_id == Staff.tenant_id) & (StaffRole.staff_id == Staff.id),
            )
            .where(Staff.tenant_id == tenant.id, StaffRole.role == Role.tenant_admin)
            .order_by(Staff.username)
        )
    )


def create_first_admin(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    *,
    username: str,
    name: str,
    phone: str,
) -> tuple[Staff, str]:
    """Step 3 (首位管理员): a tenant admin with a temporary password, shown once."""
    username, name, phone = username.strip().lower(), name.strip(), phone.strip()
    if not name:
        raise InvalidInput("请填写姓名", field="name")
    if phone:
        try:
            phone = normalize_phone(phone)
        except GovhallError:
            raise InvalidInput("手机号应为 11 位数字", field="phone") from None
    if username and not _username_ok(username):
        raise InvalidInput(
            "用户名为 3–60 位小写字母、数字或“_”“.”“-”（如 yizhou-admin）", field="username"
        )
    if not username:
        raise InvalidInput("请填写用户名", field="username")
    if session.scalar(
        select(Staff.id).where(Staff.tenant_id == tenant.id, Staff.username == username)
    ):
        raise InvalidInput(f"用户名“{username}”已被使用", field="username")
    password = _temporary_password()
    staff = create_staff(
        session, tenant, username=username, name=name, password=password, phone=phone or None
    )
    if hasattr(staff, "must_change_password"):
        staff.must_change_password = True
    grant_role(session, staff, Role.tenant_admin)
    mark_done(tenant, "admin")
    record(
        session,
        tenant,
        actor,
        "staff.create",
        target_type="staff",
        target_id=staff.id,
        target_label=f"{name}（{username}）",
        after={"username": username, "name": name, "phone": mask_phone(phone), "roles": "管理员"},
    )
    return staff, password


def _username_ok(username: str) -> bool:
    import re

    return re.match(r"^[a-z0-9_.-]{3,60}$", username) is not None


# -- plugins ------------------------------------------------------------------------------


@dataclass
class PluginChoice:
    name: str
    title: str
    enabled: bool
    needs_config: bool
    description: str = ""


def plugin_choices(session: Session, tenant: Tenant) -> list[PluginChoice]:
    out = []
    for name, state in get_plugin_manager().states(session, tenant).items():
        if not state.meta.compatible():
            continue
        schema = state.meta.config_schema() or {}
        out.append(
            PluginChoice(
                name=name,
                title=state.meta.title or name,
                enabled=state.enabled,
                needs_config=bool(schema.get("required")),
                description=state.meta.description or "",
            )
        )
    return sorted(out, key=lambda c: c.title)


def set_plugins(
    session: Session, tenant: Tenant, wanted: set[str], actor: AuditActor | None = None
) -> dict[str, str]:
    """Step 5 (插件): enable those chosen, disable the others; problems per plugin by name."""
    manager = get_plugin_manager()
    problems: dict[str, str] = {}
    for name, state in manager.states(session, tenant).items():
        on = name in wanted
        if on == state.enabled:
            continue
        try:
            with session.begin_nested():
                manager.set_enabled(session, tenant, name, on, actor=actor)
                # a plugin that cannot work without settings (a courier's address, a
                # vendor's key) is not switched on here: it would fail the first citizen
                if on and (issues := manager.self_check(session, tenant, name)):
                    raise _NeedsSettings("；".join(issues))
        except _NeedsSettings as exc:
            problems[name] = f"需要先在县级管理的插件页面完成设置，才能启用（{exc}）"
        except GovhallError as exc:
            problems[name] = _plain_plugin_problem(exc.detail)
    if not problems:
        mark_done(tenant, "plugins")
    return problems


class _NeedsSettings(Exception):
    """A plugin's own check finds its settings missing (rolls the enabling back)."""


def _plain_plugin_problem(detail: str) -> str:
    if any("\u4e00" <= ch <= "\u9fff" for ch in detail):
        return detail
    return "需要先在县级管理的插件页面填写配置，才能启用"


# -- the standard catalog -----------------------------------------------------------------


def adoption_available() -> bool:
    try:
        module = importlib.import_module("core.catalog.adoption")
    except ImportError:
        return False
    return hasattr(module, "adopt_standard")


def adopt_catalog(
    session: Session, tenant: Tenant, actor: AuditActor | None, codes: list[str] | None = None
) -> int:
    """Step 4 (认领事项): adopt every standard item (or ``codes``); how many were adopted.

    All or nothing, as adopt_standard is: its problems (a province department with no
    county department to map to, ...) come back as one Chinese error."""
    from core.catalog.adoption import adopt_standard

    report = adopt_standard(session, tenant, actor, codes=codes)
    if report.problems:
        reasons = list(dict.fromkeys(p.message for p in report.problems))
        shown = "；".join(reasons[:2]) + ("……" if len(reasons) > 2 else "")
        raise InvalidInput(
            f"未认领任何事项（{len(report.problems)} 项无法认领）：{shown}。"
            "可先“复制同级配置”带来部门，或在“逐项选择认领”中对应部门。"
        )
    mark_done(tenant, "catalog")
    return len(report.adopted)


def adopted_codes(session: Session, tenant: Tenant) -> list[str]:
    """The standard items ``tenant`` has adopted (for copying them to a sibling)."""
    from core.catalog.adoption import standard_vs_local

    return sorted(
        row.standard_code
        for row in standard_vs_local(session, tenant)
        if row.state in ("adopted", "overridden") and row.standard_code
    )


# -- copy the setup of a sibling ----------------------------------------------------------


@dataclass
class CopyReport:
    units: int = 0
    plugins: list[str] = field(default_factory=list)
    plugins_need_secrets: list[str] = field(default_factory=list)
    items: int = 0
    items_problem: str = ""


def _without_secrets(value: Any) -> Any:
    """A redacted config with every masked secret left out (never copied, never the mask)."""
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if v != SECRET_MASK}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value if v != SECRET_MASK]
    return value


def read_setup(session: Session, sibling: Tenant) -> dict[str, Any]:
    """What a sibling county's setup is, read in the sibling's own scope."""
    manager = get_plugin_manager()
    plugins = []
    for name, state in manager.states(session, sibling).items():
        if not state.enabled:
            continue
        schema = state.meta.config_schema() or {}
        clean = _without_secrets(redact(schema, dict(state.raw_config)))
        plugins.append({"name": name, "config": clean})
    units = [
        {
            "code": u.code,
            "name": u.name,
            "kind": u.kind,
            "parent": u.parent_id,
            "address": u.address,
            "phone": u.phone,
            "office_hours": u.office_hours,
            "id": u.id,
        }
        for u in list_org_units(session)
        if getattr(u, "closed_at", None) is None
    ]
    codes = adopted_codes(session, sibling) if adoption_available() else []
    return {"plugins": plugins, "units": units, "codes": codes}


def copy_setup(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    sibling: Tenant,
    setup: dict[str, Any],
) -> CopyReport:
    """Give ``tenant`` the org units, plugins (configs without secrets) and adopted items
    read from ``sibling`` by :func:`read_setup`; units it already has (by code) are kept."""
    report = CopyReport()
    have = {u.code: u for u in list_org_units(session)}
    by_old_id: dict[Any, OrgUnit] = {}
    pending = list(setup["units"])
    # parents before children: repeat until nothing more can be placed
    while pending:
        placed = False
        for unit in list(pending):
            parent = None
            if unit["parent"] is not None:
                parent = by_old_id.get(unit["parent"])
                if parent is None and any(u["id"] == unit["parent"] for u in pending):
                    continue
            if unit["code"] in have:
                by_old_id[unit["id"]] = have[unit["code"]]
            else:
                new = add_org_unit(
                    session,
                    tenant,
                    code=unit["code"],
                    name=unit["name"].replace(sibling.name, tenant.name),
                    kind=unit["kind"],
                    parent=parent,
                    address=unit["address"],
                    phone=unit["phone"],
                    office_hours=unit["office_hours"],
                )
                session.flush()
                by_old_id[unit["id"]] = new
                report.units += 1
            pending.remove(unit)
            placed = True
        if not placed:
            break
    manager = get_plugin_manager()
    for plugin in setup["plugins"]:
        try:
            with session.begin_nested():
                manager.set_enabled(
                    session, tenant, plugin["name"], True, plugin["config"], actor=actor
                )
            report.plugins.append(manager.meta(plugin["name"]).title or plugin["name"])
        except GovhallError:
            report.plugins_need_secrets.append(manager.meta(plugin["name"]).title or plugin["name"])
    if setup["codes"] and adoption_available():
        try:
            with session.begin_nested():
                report.items = adopt_catalog(session, tenant, actor, codes=list(setup["codes"]))
        except GovhallError as exc:
            report.items_problem = exc.detail
    record(
        session,
        tenant,
        actor,
        "tenant.copy_setup",
        target_type="tenant",
        target_id=tenant.slug,
        target_label=tenant.name,
        after={
            "from": sibling.name,
            "units": report.units,
            "plugins": "、".join(report.plugins) or "无",
            "plugins_need_secrets": "、".join(report.plugins_need_secrets) or "无",
            "items": report.items,
        },
    )
    return report


# -- readiness, before activating -----------------------------------------------------------


def readiness(session: Session, tenant: Tenant) -> list[str]:
    """What a county opened now would lack, in sentences for the activate step."""
    items = session.scalar(
        select(func.count())
        .select_from(Item)
        .where(Item.tenant_id == tenant.id, Item.status == ItemStatus.active)
    )
    staff = session.scalar(
        select(func.count()).select_from(Staff).where(Staff.tenant_id == tenant.id)
    )
    out = []
    if not items:
        out.append("还没有任何事项：开通后门户上没有可以申请的事项。可先认领省级标准事项。")
    if (staff or 0) <= 1:
        out.append(
            "除管理员外还没有工作人员：群众提交的申请无人受理。开通后可由县级管理员添加，"
            "或先进入该地区的管理添加。"
        )
    return out

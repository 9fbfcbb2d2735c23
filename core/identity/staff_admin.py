"""A tenant's staff, administered from the browser (工作人员管理).

A tenant admin lists the staff with their roles and units, creates a staff member with a
temporary password shown once, gives and takes roles (held tenant-wide or in one org unit),
disables and enables, resets a password (a new temporary one), requires a dynamic code
(动态口令) and ends someone's sessions. Changing what a person may do — roles, disabling, a
new password — ends their sessions at once. An admin may neither disable themselves nor
take away their own last admin role. Every change appends an entry to the tenant's audit log
in the caller's transaction, phone numbers masked and passwords never.

A temporary password opens exactly one sign-in: :func:`begin_setup` spends it (the hash is
replaced, the person's sessions end) and the sign-in goes on to :func:`finish_setup`, where
the person chooses a password of their own and, when required, enrols a dynamic code.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditActor, changed, record
from core.db import new_id
from core.errors import Conflict, InvalidInput, NotFound
from core.identity.models import ROLE_LABELS, Role, Staff, StaffRole
from core.identity.passwords import check_password_strength, hash_password
from core.identity.service import create_staff, normalize_phone, normalize_username
from core.identity.sessions import end_access, end_sessions, set_active
from core.tenancy import OrgUnit, Tenant
from core.tenancy import units as org_units

__all__ = [
    "StaffRow",
    "add_role",
    "begin_setup",
    "close_unit",
    "create_member",
    "end_member_sessions",
    "finish_setup",
    "get_member",
    "list_staff",
    "masked",
    "needs_setup",
    "new_totp_secret",
    "offered_roles",
    "remove_role",
    "reset_password",
    "role_label",
    "roles_of",
    "set_enabled",
    "set_totp_required",
    "temporary_password",
    "totp_uri",
    "update_member",
]

_ADMIN_ROLES = (Role.tenant_admin, Role.province_admin)
#: no 0/O, 1/l/I: a temporary password is read aloud or copied from a screen
_LETTERS = "abcdefghjkmnpqrstuvwxyz"
_DIGITS = "23456789"


@dataclass
class StaffRow:
    """A staff member with the roles they hold and where."""

    staff: Staff
    roles: list[tuple[StaffRole, OrgUnit | None]] = field(default_factory=list)


def masked(phone: str | None) -> str:
    """``138****0008`` (empty when there is no phone)."""
    phone = phone or ""
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else ("****" if phone else "")


def temporary_password() -> str:
    """Twelve characters in three groups, with letters and digits (``k7pm-3xra-9qfe``)."""
    while True:
        chars = [secrets.choice(_LETTERS + _DIGITS) for _ in range(12)]
        text = "".join(chars)
        if any(c in _DIGITS for c in text) and any(c in _LETTERS for c in text):
            return "-".join(text[i : i + 4] for i in range(0, 12, 4))


def offered_roles(tenant: Tenant) -> list[Role]:
    """The roles an admin of ``tenant`` may give: 省级管理员 only in a province."""
    return [r for r in Role if r is not Role.province_admin or tenant.is_province]


def role_label(role: Role, unit: OrgUnit | None) -> str:
    return f"{ROLE_LABELS[role]}（{unit.name if unit else '不限机构'}）"


def get_member(session: Session, tenant: Tenant, staff_id: uuid.UUID) -> Staff:
    """A staff member of ``tenant``; another tenant's is not found (404)."""
    staff = session.get(Staff, (tenant.id, staff_id))
    if staff is None or staff.tenant_id != tenant.id:
        raise NotFound("没有这位工作人员")
    return staff


def roles_of(
    session: Session, tenant: Tenant, staff: Staff
) -> list[tuple[StaffRole, OrgUnit | None]]:
    rows = session.scalars(
        select(StaffRole).where(StaffRole.tenant_id == tenant.id, StaffRole.staff_id == staff.id)
    ).all()
    units = {
        u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == tenant.id))
    }
    order = list(Role)
    out = [(r, units.get(r.org_unit_id) if r.org_unit_id else None) for r in rows]
    out.sort(key=lambda p: (order.index(p[0].role), p[1].code if p[1] else ""))
    return out


def list_staff(
    session: Session,
    tenant: Tenant,
    *,
    unit_code: str = "",
    role: Role | None = None,
) -> list[StaffRow]:
    """Every staff member (by name) with their roles; filtered by a unit and/or a role."""
    staff = session.scalars(
        select(Staff).where(Staff.tenant_id == tenant.id).order_by(Staff.username)
    ).all()
    units = {
        u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == tenant.id))
    }
    held: dict[uuid.UUID, list[tuple[StaffRole, OrgUnit | None]]] = {}
    for row in session.scalars(select(StaffRole).where(StaffRole.tenant_id == tenant.id)):
        unit = units.get(row.org_unit_id) if row.org_unit_id else None
        held.setdefault(row.staff_id, []).append((row, unit))
    order = list(Role)
    out = []
    for member in staff:
        roles = sorted(
            held.get(member.id, []),
            key=lambda p: (order.index(p[0].role), p[1].code if p[1] else ""),
        )
        if role is not None and not any(r.role is role for r, _ in roles):
            continue
        if unit_code and not any(u is not None and u.code == unit_code for _, u in roles):
            continue
        out.append(StaffRow(member, roles))
    return out


def _labels(roles: list[tuple[StaffRole, OrgUnit | None]]) -> list[str]:
    return [role_label(r.role, u) for r, u in roles]


def _unit(session: Session, tenant: Tenant, code: str | None) -> OrgUnit | None:
    code = (code or "").strip()
    if not code:
        return None
    unit = session.scalar(
        select(OrgUnit).where(OrgUnit.tenant_id == tenant.id, OrgUnit.code == code)
    )
    if unit is None or unit.closed_at is not None:
        raise InvalidInput("所选机构不存在或已撤销，请从列表中选择", field="unit")
    return unit


def _role(tenant: Tenant, value: str | Role) -> Role:
    try:
        role = Role(value)
    except ValueError:
        raise InvalidInput("请选择角色", field="role") from None
    if role not in offered_roles(tenant):
        raise InvalidInput("本级不能授予该角色", field="role")
    return role


def _is_self(actor: AuditActor | None, tenant: Tenant, staff: Staff) -> bool:
    return actor is not None and actor.id == staff.id and actor.tenant_id == tenant.id


def create_member(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    *,
    username: str,
    name: str,
    phone: str = "",
    role: str = "",
    unit_code: str = "",
) -> tuple[Staff, str]:
    """A new staff member with a temporary password (returned, shown once, never stored
    in clear) and, when ``role`` is given, that role (in ``unit_code`` or tenant-wide)."""
    username = normalize_username(username)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写姓名", field="name")
    if not 3 <= len(username) <= 60 or not all(
        c in "abcdefghijklmnopqrstuvwxyz0123456789_.-" for c in username
    ):
        raise InvalidInput(
            "用户名为 3–60 位小写字母、数字或“_”“.”“-”（如 zhang.wei）", field="username"
        )
    if session.scalar(
        select(Staff.id).where(Staff.tenant_id == tenant.id, Staff.username == username)
    ):
        raise InvalidInput(f"用户名 {username} 已被使用，请换一个", field="username")
    phone = normalize_phone(phone) if (phone or "").strip() else ""
    chosen = _role(tenant, role) if role else None
    unit = _unit(session, tenant, unit_code) if chosen else None
    password = temporary_password()
    staff = create_staff(
        session, tenant, username=username, name=name[:120], password=password, phone=phone or None
    )
    staff.must_change_password = True
    if chosen is not None:
        session.add(
            StaffRole(
                tenant_id=tenant.id,
                id=new_id(),
                staff_id=staff.id,
                role=chosen,
                org_unit_id=unit.id if unit else None,
            )
        )
    session.flush()
    after: dict[str, object] = {"username": username, "name": staff.name}
    if phone:
        after["phone"] = masked(phone)
    if chosen is not None:
        after["roles"] = [role_label(chosen, unit)]
    _record(
        session,
        tenant,
        actor,
        "staff.create",
        staff,
        after=after,
    )
    return staff, password


def _record(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    action: str,
    staff: Staff,
    *,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> None:
    record(
        session,
        tenant,
        actor,
        action,
        target_type="staff",
        target_id=str(staff.id),
        target_label=f"{staff.name}（{staff.username}）",
        before=before,
        after=after,
    )


def update_member(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    staff: Staff,
    *,
    name: str,
    phone: str = "",
) -> Staff:
    """A staff member's name and phone."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写姓名", field="name")
    new_phone = normalize_phone(phone) if (phone or "").strip() else None
    before = {"name": staff.name, "phone": masked(staff.phone)}
    staff.name, staff.phone = name[:120], new_phone
    old, new = changed(before, {"name": staff.name, "phone": masked(staff.phone)})
    if old or new:
        session.flush()
        _record(session, tenant, actor, "staff.update", staff, before=old, after=new)
    return staff


def add_role(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    staff: Staff,
    *,
    role: str,
    unit_code: str = "",
) -> None:
    """Give ``role`` in a unit (or tenant-wide); the person's sessions end."""
    chosen = _role(tenant, role)
    unit = _unit(session, tenant, unit_code)
    before = _labels(roles_of(session, tenant, staff))
    if role_label(chosen, unit) in before:
        raise InvalidInput("该工作人员已有这个角色", field="role")
    session.add(
        StaffRole(
            tenant_id=tenant.id,
            id=new_id(),
            staff_id=staff.id,
            role=chosen,
            org_unit_id=unit.id if unit else None,
        )
    )
    end_sessions(staff)
    session.flush()
    after = _labels(roles_of(session, tenant, staff))
    _record(
        session,
        tenant,
        actor,
        "staff.roles",
        staff,
        before={"roles": before},
        after={"roles": after},
    )


def remove_role(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    staff: Staff,
    role_id: uuid.UUID,
) -> None:
    """Take a role away; an admin keeps their own last admin role. Sessions end."""
    held = roles_of(session, tenant, staff)
    row = next((r for r, _ in held if r.id == role_id), None)
    if row is None:
        raise NotFound("该工作人员没有这个角色")
    if _is_self(actor, tenant, staff) and row.role in _ADMIN_ROLES:
        left = [r for r, _ in held if r.id != role_id and r.role in _ADMIN_ROLES]
        if not left:
            raise Conflict("不能移除自己唯一的管理员角色，请由另一位管理员操作")
    before = _labels(held)
    session.delete(row)
    end_sessions(staff)
    session.flush()
    after = _labels(roles_of(session, tenant, staff))
    _record(
        session,
        tenant,
        actor,
        "staff.roles",
        staff,
        before={"roles": before},
        after={"roles": after},
    )


def set_enabled(
    session: Session, tenant: Tenant, actor: AuditActor | None, staff: Staff, enabled: bool
) -> None:
    """Disable (every session and token ends) or enable again; never oneself."""
    if staff.active == enabled:
        return
    if not enabled and _is_self(actor, tenant, staff):
        raise Conflict("不能停用自己的账号")
    set_active(staff, enabled)
    session.flush()
    _record(
        session,
        tenant,
        actor,
        "staff.enable" if enabled else "staff.disable",
        staff,
        before={"active": not enabled},
        after={"active": enabled},
    )


def reset_password(session: Session, tenant: Tenant, actor: AuditActor | None, staff: Staff) -> str:
    """A new temporary password (returned, shown once); every session and token ends."""
    password = temporary_password()
    staff.password_hash = hash_password(password)
    staff.must_change_password = True
    end_access(staff)
    session.flush()
    _record(
        session, tenant, actor, "staff.password_reset", staff, after={"password": "已发放临时密码"}
    )
    return password


def set_totp_required(
    session: Session, tenant: Tenant, actor: AuditActor | None, staff: Staff, required: bool
) -> None:
    """Require a dynamic code (the person enrols at their next sign-in: their sessions end
    now) or no longer require it (an enrolled code stays in use)."""
    if staff.totp_required == required:
        return
    staff.totp_required = required
    if required and not staff.totp_secret:
        end_sessions(staff)
    session.flush()
    _record(
        session,
        tenant,
        actor,
        "staff.totp_required",
        staff,
        before={"totp_required": not required},
        after={"totp_required": required},
    )


def end_member_sessions(
    session: Session, tenant: Tenant, actor: AuditActor | None, staff: Staff
) -> None:
    """End every session of ``staff`` on every device and revoke their API tokens."""
    end_access(staff)
    session.flush()
    _record(session, tenant, actor, "staff.sessions_ended", staff)


def close_unit(
    session: Session, tenant: Tenant, actor: AuditActor | None, unit: OrgUnit
) -> OrgUnit:
    """Close an org unit when empty: no open child units, nobody holding a role in it."""
    holders = session.scalar(
        select(func.count(func.distinct(StaffRole.staff_id))).where(
            StaffRole.tenant_id == tenant.id, StaffRole.org_unit_id == unit.id
        )
    )
    return org_units.close_unit(session, tenant, actor, unit, staff_count=int(holders or 0))


# -- the first sign-in after a temporary password, and enrolling a dynamic code --------------


def needs_setup(staff: Staff) -> bool:
    """A temporary password to replace, or a required dynamic code not yet enrolled."""
    return bool(staff.must_change_password or (staff.totp_required and not staff.totp_secret))


def begin_setup(staff: Staff) -> None:
    """Spend a temporary password as it opens its one sign-in: the hash is replaced by one of
    nothing anybody knows, and sessions made before end (the caller commits)."""
    if staff.must_change_password:
        staff.password_hash = hash_password("spent-" + secrets.token_urlsafe(24) + "9a")
    end_sessions(staff)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(staff: Staff, secret: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or typed)."""
    return pyotp.TOTP(secret).provisioning_uri(name=staff.username, issuer_name=issuer)


def finish_setup(
    staff: Staff,
    *,
    password: str = "",
    confirm: str = "",
    totp_secret: str = "",
    code: str = "",
) -> None:
    """Complete the first sign-in: a password of one's own (when the last was temporary)
    and the dynamic code enrolled (when required), checked before anything changes."""
    if staff.must_change_password:
        if not password:
            raise InvalidInput("请设置新密码", field="password")
        check_password_strength(password)
        if password != confirm:
            raise InvalidInput("两次输入的密码不一致", field="confirm")
    enrol = staff.totp_required and not staff.totp_secret
    valid = bool(totp_secret) and pyotp.TOTP(totp_secret).verify(
        (code or "").strip(), valid_window=1
    )
    if enrol and not valid:
        raise InvalidInput("动态口令不正确，请查看验证器应用中最新的 6 位数字", field="code")
    if staff.must_change_password:
        staff.password_hash = hash_password(password)
        staff.must_change_password = False
    if enrol:
        staff.totp_secret = totp_secret
    end_sessions(staff)

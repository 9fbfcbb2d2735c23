"""Org units of one tenant (组织机构): create under a parent, edit, move, close when empty.

A unit is a department, a service centre, a township centre, a village station or a window
(:data:`UNIT_KIND_LABELS`). Units form a tree inside the tenant: a parent must exist, be open
and belong to the same tenant (an unknown parent is refused, never an orphan made), and a move
never makes a unit its own ancestor. Closing (撤销) keeps the row for history — cases and items
still name it — and marks it closed: it is then offered in no chooser. Every change appends
an entry to the tenant's audit log in the caller's transaction (the caller commits).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditActor, changed, record
from core.db import new_id, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.tenancy.models import UNIT_KIND_LABELS, OrgUnit, OrgUnitKind, Tenant

__all__ = [
    "UnitNode",
    "close_unit",
    "create_unit",
    "descendants",
    "flatten",
    "get_unit",
    "move_unit",
    "open_units",
    "unit_tree",
    "update_unit",
]

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
#: what an administrator may edit in place (the code is the unit's name in packs and URLs)
_EDITABLE = ("name", "kind", "address", "phone", "office_hours")
#: siblings in the tree: the service centre first, then departments, townships, villages, windows
_KIND_ORDER = (
    OrgUnitKind.service_centre,
    OrgUnitKind.department,
    OrgUnitKind.township_centre,
    OrgUnitKind.village_station,
    OrgUnitKind.window,
)


@dataclass
class UnitNode:
    """A unit with its children, for the tree view."""

    unit: OrgUnit
    depth: int
    children: list[UnitNode] = field(default_factory=list)


def _all(session: Session, tenant: Tenant) -> list[OrgUnit]:
    return list(
        session.scalars(
            select(OrgUnit).where(OrgUnit.tenant_id == tenant.id).order_by(OrgUnit.code)
        )
    )


def open_units(session: Session, tenant: Tenant) -> list[OrgUnit]:
    """The units a chooser offers: every one not closed, by code."""
    return [u for u in _all(session, tenant) if u.closed_at is None]


def get_unit(session: Session, tenant: Tenant, code: str) -> OrgUnit:
    unit = session.scalar(
        select(OrgUnit).where(OrgUnit.tenant_id == tenant.id, OrgUnit.code == code)
    )
    if unit is None:
        raise NotFound("没有这个机构", field="code")
    return unit


def unit_tree(session: Session, tenant: Tenant, *, include_closed: bool = True) -> list[UnitNode]:
    """The tenant's units as a forest, depth first (a unit whose parent is gone is a root)."""
    units = _all(session, tenant)
    if not include_closed:
        units = [u for u in units if u.closed_at is None]
    ids = {u.id for u in units}
    by_parent: dict[uuid.UUID | None, list[OrgUnit]] = {}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in ids else None
        by_parent.setdefault(parent, []).append(unit)

    order = list(_KIND_ORDER)

    def build(parent: uuid.UUID | None, depth: int) -> list[UnitNode]:
        siblings = sorted(by_parent.get(parent, []), key=lambda u: (order.index(u.kind), u.code))
        return [UnitNode(u, depth, build(u.id, depth + 1)) for u in siblings]

    return build(None, 0)


def flatten(nodes: list[UnitNode]) -> list[UnitNode]:
    """The tree in display order, each node once."""
    out: list[UnitNode] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node.children))
    return out


def descendants(session: Session, tenant: Tenant, unit: OrgUnit) -> set[uuid.UUID]:
    """The ids of every unit below ``unit`` (not itself)."""
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for u in _all(session, tenant):
        children.setdefault(u.parent_id, []).append(u.id)
    found: set[uuid.UUID] = set()
    todo = list(children.get(unit.id, []))
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, []))
    return found


def _parent(session: Session, tenant: Tenant, code: str | None) -> OrgUnit | None:
    code = (code or "").strip()
    if not code:
        return None
    parent = session.scalar(
        select(OrgUnit).where(OrgUnit.tenant_id == tenant.id, OrgUnit.code == code)
    )
    if parent is None:
        raise InvalidInput(f"上级机构“{code}”不存在，请从列表中选择", field="parent")
    if parent.closed_at is not None:
        raise InvalidInput(f"上级机构“{parent.name}”已撤销，不能再设下级机构", field="parent")
    return parent


def _kind(value: str | OrgUnitKind) -> OrgUnitKind:
    try:
        return OrgUnitKind(value)
    except ValueError:
        raise InvalidInput("请选择机构类型", field="kind") from None


def _snapshot(unit: OrgUnit) -> dict[str, str]:
    return {
        "name": unit.name,
        "kind": UNIT_KIND_LABELS[unit.kind],
        "address": unit.address or "",
        "phone": unit.phone or "",
        "office_hours": unit.office_hours or "",
    }


def create_unit(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    *,
    code: str,
    name: str,
    kind: str | OrgUnitKind,
    parent_code: str | None = None,
    address: str = "",
    phone: str = "",
    office_hours: str = "",
) -> OrgUnit:
    """A new unit under ``parent_code`` (none: at the top); refused with the field named."""
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise InvalidInput("请填写机构编码", field="code")
    if not _CODE_RE.match(code):
        raise InvalidInput(
            "机构编码由字母、数字、“-”“_”“.”组成，最长 40 位（如 CL-TYJ）", field="code"
        )
    if not name:
        raise InvalidInput("请填写机构名称", field="name")
    unit_kind = _kind(kind)
    if session.scalar(
        select(OrgUnit.id).where(OrgUnit.tenant_id == tenant.id, OrgUnit.code == code)
    ):
        raise InvalidInput(f"编码 {code} 已存在，请换一个", field="code")
    parent = _parent(session, tenant, parent_code)
    unit = OrgUnit(
        tenant_id=tenant.id,
        id=new_id(),
        code=code,
        name=name[:120],
        kind=unit_kind,
        parent_id=parent.id if parent else None,
        address=address.strip()[:255],
        phone=phone.strip()[:40],
        office_hours=office_hours.strip()[:120],
    )
    session.add(unit)
    session.flush()
    after = {**_snapshot(unit), "parent": parent.name if parent else ""}
    record(
        session,
        tenant,
        actor,
        "unit.create",
        target_type="org_unit",
        target_id=code,
        target_label=unit.name,
        after={k: v for k, v in after.items() if v},
    )
    return unit


def update_unit(
    session: Session, tenant: Tenant, actor: AuditActor | None, unit: OrgUnit, **values: str
) -> OrgUnit:
    """Edit a unit's name, kind, address, phone and office hours (only what is given)."""
    if unit.closed_at is not None:
        raise Conflict("该机构已撤销，不能再修改")
    before = _snapshot(unit)
    if "name" in values:
        name = (values["name"] or "").strip()
        if not name:
            raise InvalidInput("请填写机构名称", field="name")
        unit.name = name[:120]
    if "kind" in values:
        unit.kind = _kind(values["kind"])
    for key, limit in (("address", 255), ("phone", 40), ("office_hours", 120)):
        if key in values:
            setattr(unit, key, (values[key] or "").strip()[:limit])
    old, new = changed(before, _snapshot(unit))
    if old or new:
        session.flush()
        record(
            session,
            tenant,
            actor,
            "unit.update",
            target_type="org_unit",
            target_id=unit.code,
            target_label=unit.name,
            before=old,
            after=new,
        )
    return unit


def move_unit(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    unit: OrgUnit,
    parent_code: str | None,
) -> OrgUnit:
    """Put ``unit`` under another parent (none: at the top); never under itself or below."""
    if unit.closed_at is not None:
        raise Conflict("该机构已撤销，不能再调整")
    parent = _parent(session, tenant, parent_code)
    if parent is not None and (
        parent.id == unit.id or parent.id in descendants(session, tenant, unit)
    ):
        raise InvalidInput("不能把机构移到它自己或它的下级机构之下", field="parent")
    old_parent = session.get(OrgUnit, (tenant.id, unit.parent_id)) if unit.parent_id else None
    new_id_ = parent.id if parent else None
    if unit.parent_id == new_id_:
        return unit
    unit.parent_id = new_id_
    session.flush()
    record(
        session,
        tenant,
        actor,
        "unit.move",
        target_type="org_unit",
        target_id=unit.code,
        target_label=unit.name,
        before={"parent": old_parent.name if old_parent else "（顶级）"},
        after={"parent": parent.name if parent else "（顶级）"},
    )
    return unit


def close_unit(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    unit: OrgUnit,
    *,
    staff_count: int,
) -> OrgUnit:
    """Close (撤销) a unit that has no open child units and no staff holding roles in it.

    ``staff_count`` is how many staff members hold a role in the unit: identity, which
    knows the staff, counts them (see :func:`core.identity.staff_admin.close_unit`).
    """
    if unit.closed_at is not None:
        raise Conflict("该机构已撤销")
    open_children = [
        u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.tenant_id == tenant.id, OrgUnit.parent_id == unit.id)
        )
        if u.closed_at is None
    ]
    if open_children:
        names = "、".join(u.name for u in open_children[:3])
        more = " 等" if len(open_children) > 3 else ""
        raise Conflict(
            f"该机构下还有 {len(open_children)} 个下级机构（{names}{more}），请先撤销或移走下级机构"
        )
    if staff_count:
        raise Conflict(f"还有 {staff_count} 名工作人员在该机构任职，请先调整他们的角色")
    unit.closed_at = utcnow()
    session.flush()
    record(
        session,
        tenant,
        actor,
        "unit.close",
        target_type="org_unit",
        target_id=unit.code,
        target_label=unit.name,
        before={"closed": False},
        after={"closed": True},
    )
    return unit

"""Who hears of a case's step: the staff holding it (its role, in its unit or a unit under
it) and the supervisors — remembered for a moment per tenant (``core/db/_memo.py``: a
change of staff or roles forgets them at once in its process), texted through the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import engine
from core.cases.models import Case, CaseTask
from core.db import Scope, remembered, scope_of, watch
from core.identity import Role, Staff
from core.identity.models import StaffRole
from core.notify.outbox import enqueue_sms
from core.tenancy import Tenant

__all__ = ["Holder", "holders", "holding", "recipients", "remind", "unit_parents"]


@dataclass(frozen=True)
class Holder:
    staff_id: uuid.UUID
    name: str
    phone: str | None
    role: str
    unit: uuid.UUID | None


watch(Staff, StaffRole)


def holders(session: Session) -> list[Holder]:
    """Every active staff member's roles with their phone: remembered for a moment in a
    tenant's scope (every submission and action texts them), read anew on the platform."""

    def load() -> list[Holder]:
        rows = session.execute(
            select(Staff.id, Staff.name, Staff.phone, StaffRole.role, StaffRole.org_unit_id)
            .join(
                StaffRole,
                (StaffRole.staff_id == Staff.id) & (StaffRole.tenant_id == Staff.tenant_id),
            )
            .where(Staff.active.is_(True))
        ).all()
        return [Holder(r[0], r[1], r[2], Role(r[3]).value, r[4]) for r in rows]

    scope = scope_of(session)
    if isinstance(scope, Scope):
        return remembered(session, ("staff-holders", scope.tenant_id), load)
    return load()


def recipients(
    task: CaseTask, staff: list[Holder], parents: dict[uuid.UUID, uuid.UUID | None]
) -> list[Holder]:
    """Who holds the step (its role, in its unit or a unit under it) and the supervisors."""
    return holding({task.role}, task.org_unit_id, staff, parents)


def holding(
    roles: Collection[str],
    unit: uuid.UUID | None,
    staff: list[Holder],
    parents: dict[uuid.UUID, uuid.UUID | None],
) -> list[Holder]:
    """Who holds any of ``roles`` in ``unit`` (or a unit under it, or tenant-wide), and the
    supervisors: the people a reminder about work of that unit goes to."""
    out: dict[uuid.UUID, Holder] = {}
    for h in staff:
        holds = h.role in roles and (
            h.unit is None or unit is None or h.unit == unit or parents.get(h.unit) == unit
        )
        if holds or h.role == Role.supervisor.value:
            out.setdefault(h.staff_id, h)
    return list(out.values())


def remind(
    session: Session,
    tenant: Tenant,
    case: Case,
    task: CaseTask,
    template: str,
    params: dict[str, Any],
    *,
    supervisors: bool = True,
    staff: list[Holder] | None = None,
    parents: dict[uuid.UUID, uuid.UUID | None] | None = None,
) -> int:
    """Queue ``template`` to everyone holding ``task`` (and the supervisors unless told
    otherwise); ``staff`` and ``parents`` let a batch read them once. Returns the count."""
    staff = holders(session) if staff is None else staff
    if parents is None:
        parents = unit_parents(session)
    sent = 0
    for h in recipients(task, staff, parents):
        if h.phone and (supervisors or h.role != Role.supervisor.value):
            enqueue_sms(session, tenant, h.phone, template, params, case.id)
            sent += 1
    return sent


def unit_parents(session: Session) -> dict[uuid.UUID, uuid.UUID | None]:
    return engine.unit_parents(session)

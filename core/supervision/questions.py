"""The deadline sweep over consultations and complaints (咨询与投诉): an unanswered question
nearing its reply limit gets a yellow card, one past it a red card — each once, as for case
steps — with a reminder (催办) to the department's staff and the supervisors.

Called by :func:`core.supervision.sweep.run_sweep` in the same run and transaction as the
case steps of the tenant; reads only ``ix_consultations_sweep`` (tenant, state, card, due).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.consult import KIND_LABELS, Consultation
from core.consult.service import ANSWERING_ROLES
from core.notify.outbox import enqueue_sms
from core.supervision.staff import Holder, holders, holding, unit_parents
from core.tenancy import OrgUnit, Tenant

__all__ = ["due_condition", "sweep_questions"]

BATCH = 500
_ROLES = {r.value for r in ANSWERING_ROLES}


def due_condition(tenant: Tenant, today: date, limit: date) -> Any:
    """Open questions without a card that near their limit, and yellow ones past it."""
    return and_(
        Consultation.tenant_id == tenant.id,
        Consultation.state == "open",
        or_(
            and_(Consultation.card.is_(None), Consultation.due_on <= limit),
            and_(Consultation.card == "yellow", Consultation.due_on < today),
        ),
    )


def sweep_questions(
    session: Session,
    tenant: Tenant,
    today: date,
    limit: date,
    *,
    staff: list[Holder] | None = None,
    parents: dict[uuid.UUID, uuid.UUID | None] | None = None,
) -> tuple[int, int]:
    """One batch of the tenant's due questions; returns (yellow, red) cards raised. The
    caller commits."""
    stmt = (
        select(Consultation)
        .where(due_condition(tenant, today, limit))
        .order_by(Consultation.due_on)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.scalars(stmt))
    if not rows:
        return 0, 0
    staff = holders(session) if staff is None else staff
    parents = unit_parents(session) if parents is None else parents
    units = {u.code: u.id for u in session.scalars(select(OrgUnit))}
    yellow = red = 0
    for row in rows:
        colour = "red" if row.due_on < today else "yellow"
        row.card = colour
        params = {
            "kind": KIND_LABELS.get(row.kind, row.kind),
            "number": row.number,
            "item": row.item_name,
            "due_on": f"{row.due_on:%m月%d日}",
        }
        unit = units.get(row.department_code)
        for h in holding(_ROLES, unit, staff, parents):
            if h.phone and (unit is not None or h.role == "supervisor"):
                enqueue_sms(session, tenant, h.phone, f"consult_{colour}", params, row.case_id)
        if colour == "yellow":
            yellow += 1
        else:
            red += 1
    session.flush()
    return yellow, red

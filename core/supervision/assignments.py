"""Staff hear of new work (SMS at assignment): when a step opens, everyone who may work it —
its role, in its org unit or a unit under it — gets a text with the deadline, queued in the
same transaction as the step. A tenant turns it off with the setting
``sms_on_assignment = false`` (a busy window that watches its queue needs no texts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.cases.engine import OPENED_TASKS
from core.cases.models import Case, CaseTask, TaskState
from core.db import CommitEffect, remembered, watch
from core.notify.outbox import OutboxMessage
from core.supervision.staff import holders, recipients, unit_parents
from core.tenancy import Tenant

__all__ = ["ASSIGNMENT_TEXTS", "announce"]

watch(Tenant)

#: steps nobody on the staff works
UNSTAFFED = ("applicant",)


def announce(session: Session, opened: list[tuple[CaseTask, Case]]) -> int:
    """Queue the assignment texts for steps still open; returns how many were queued."""
    live = [(t, c) for t, c in opened if t.state is TaskState.open and t.role not in UNSTAFFED]
    if not live:
        return 0
    tenants: dict[Any, bool] = {}
    staff = None
    parents: dict[Any, Any] = {}
    sent = 0
    for task, case in live:
        if case.tenant_id not in tenants:
            tenants[case.tenant_id] = _texts_on(session, case.tenant_id)
        if not tenants[case.tenant_id]:
            continue
        if staff is None:
            staff = holders(session)
            parents = unit_parents(session)
        params = {
            "number": case.number,
            "item": case.item_name,
            "step": task.name,
            "due_on": f"{task.due_on:%m月%d日}" if task.due_on else "—",
        }
        for h in recipients(task, staff, parents):
            if h.phone and h.role == task.role:
                session.add(
                    OutboxMessage(
                        tenant_id=case.tenant_id,
                        template="task_assigned",
                        phone=h.phone,
                        params=params,
                        case_id=case.id,
                    )
                )
                sent += 1
    return sent


def _texts_on(session: Session, tenant_id: Any) -> bool:
    """Whether the tenant texts its staff at assignment; remembered for a moment (a change
    of the tenant's settings forgets it at once in its process)."""

    def load() -> bool:
        tenant = session.get(Tenant, tenant_id)
        return tenant is not None and tenant.settings.get("sms_on_assignment", True) is not False

    on: bool = remembered(session, ("sms-on-assignment", tenant_id), load)
    return on


def _announce_opened(session: Session) -> None:
    opened = session.info.pop(OPENED_TASKS, None)
    if opened:
        announce(session, opened)


def _forget(session: Session) -> None:
    session.info.pop(OPENED_TASKS, None)


#: at commit, staff whose step opened in the transaction get their text (see core.effects)
ASSIGNMENT_TEXTS = CommitEffect(
    "assignment_texts", before_commit=_announce_opened, after_rollback=_forget
)

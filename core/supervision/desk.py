"""The supervisor's desk (效能监察): live lists of carded, overdue and suspended cases and open
follow-ups; manual cards and reminders (督办) with a reason; notes on a case — all on the
trail."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import clock
from core.cases.access import get_case
from core.cases.models import Case, CaseState, CaseTask, TaskState
from core.cases.trail import Actor, append_event
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.identity import Principal, Role
from core.supervision.models import Card, FollowUp
from core.supervision.staff import remind
from core.tenancy import Tenant

__all__ = ["close_follow_up", "issue_card", "live_lists", "require_supervisor"]

LIST_LIMIT = 200


def require_supervisor(principal: Principal) -> None:
    if not principal.is_staff or not (
        principal.has_role(Role.supervisor) or principal.has_role(Role.tenant_admin)
    ):
        raise Forbidden("仅限效能监察人员")


def live_lists(session: Session, principal: Principal) -> dict[str, list[dict[str, Any]]]:
    """What needs watching now, each list oldest deadline first."""
    require_supervisor(principal)
    today = clock.today()

    def tasks(*conditions: Any) -> list[dict[str, Any]]:
        rows = session.execute(
            select(CaseTask, Case.number, Case.item_name)
            .join(Case, (Case.id == CaseTask.case_id) & (Case.tenant_id == CaseTask.tenant_id))
            .where(CaseTask.state == TaskState.open, *conditions)
            .order_by(CaseTask.due_on)
            .limit(LIST_LIMIT)
        ).all()
        return [
            {
                "number": number,
                "item": item,
                "task": str(t.id),
                "step": t.name,
                "due_on": t.due_on.isoformat() if t.due_on else None,
                "card": t.card,
            }
            for t, number, item in rows
        ]

    suspended = session.scalars(
        select(Case)
        .where(Case.state == CaseState.suspended)
        .order_by(Case.updated_at)
        .limit(LIST_LIMIT)
    ).all()
    follow_ups = session.execute(
        select(FollowUp, Case.number)
        .join(Case, (Case.id == FollowUp.case_id) & (Case.tenant_id == FollowUp.tenant_id))
        .where(FollowUp.state == "open")
        .order_by(FollowUp.created_at)
        .limit(LIST_LIMIT)
    ).all()
    return {
        "yellow": tasks(CaseTask.card == "yellow"),
        "red": tasks(CaseTask.card == "red"),
        "overdue": tasks(CaseTask.due_on < today),
        "suspended": [
            {"number": c.number, "item": c.item_name, "state": c.state.value} for c in suspended
        ],
        "follow_ups": [
            {
                "id": str(f.id),
                "number": number,
                "kind": f.kind,
                "score": f.score,
                "text": f.text,
                "created_at": f.created_at.isoformat(),
            }
            for f, number in follow_ups
        ],
    }


def issue_card(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    number: str,
    kind: str,
    reason: str,
    task_id: str | None = None,
) -> Case:
    """A manual yellow or red card, a reminder (督办) or a note, with its reason, on the trail;
    cards and reminders reach the step's holders by SMS. The caller commits."""
    case = get_case(session, number, principal, lock=True)  # another tenant's: 404 first
    require_supervisor(principal)
    if kind not in ("yellow", "red", "remind", "note"):
        raise InvalidInput("kind 应为 yellow、red、remind 或 note", field="kind")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写理由", field="reason")
    task = None
    if kind != "note":
        open_tasks = session.scalars(
            select(CaseTask).where(CaseTask.case_id == case.id, CaseTask.state == TaskState.open)
        ).all()
        if task_id:
            task = next((t for t in open_tasks if str(t.id) == task_id), None)
            if task is None:
                raise NotFound("环节不存在", field="task")
        elif open_tasks:
            task = open_tasks[0]
        else:
            raise Conflict("办件没有正在办理的环节", field="state")
    actor = Actor.of(principal)
    if kind in ("yellow", "red") and task is not None:
        if task.card == "red" or task.card == kind:
            raise Conflict(f"该环节已有{'红' if task.card == 'red' else '黄'}牌", field="kind")
        task.card = kind
        session.add(
            Card(
                tenant_id=tenant.id,
                case_id=case.id,
                task_id=task.id,
                org_unit_id=task.org_unit_id,
                department_code=case.department_code,
                item_code=case.item_code,
                staff_id=task.claimed_by,
                staff_name=task.claimed_name,
                at=clock.now(),
                step_name=task.name,
                colour=kind,
                source="manual",
                reason=reason[:2000],
                issued_by=principal.name,
                due_on=task.due_on,
            )
        )
    append_event(
        session,
        case,
        actor,
        {"yellow": "yellow_card", "red": "red_card", "remind": "remind", "note": "note"}[kind],
        from_state=case.state.value,
        step=task.step if task else "",
        reason=reason[:2000],
    )
    if task is not None:
        params = {
            "number": case.number,
            "item": case.item_name,
            "step": task.name,
            "reason": reason[:60],
        }
        remind(session, tenant, case, task, "card_manual", params, supervisors=False)
    return case


def close_follow_up(
    session: Session, principal: Principal, follow_up_id: uuid.UUID, resolution: str
) -> FollowUp:
    row = session.scalars(select(FollowUp).where(FollowUp.id == follow_up_id)).first()
    if row is None:
        raise NotFound("回访事项不存在", field="id")
    require_supervisor(principal)
    if row.state != "open":
        raise Conflict("已处理", field="state")
    if not resolution.strip():
        raise InvalidInput("请填写处理结果", field="resolution")
    case = session.scalars(select(Case).where(Case.id == row.case_id).with_for_update()).one()
    row.state, row.closed_at = "closed", clock.now()
    row.closed_by, row.resolution = principal.name, resolution.strip()[:2000]
    append_event(
        session,
        case,
        Actor.of(principal),
        "follow_up_closed",
        from_state=case.state.value,
        reason=row.resolution,
        data={"kind": row.kind},
    )
    return row

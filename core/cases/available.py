"""What a staff member may do on a case now: one list, from the process definition's steps,
the case's state, the person's roles and the duty rules, which the staff case page and the
API both show (neither re-derives case rules). ``core.cases.actions.perform`` refuses what
this does not list; tests/cases/test_available.py proves the two agree.

Alongside the actions: why an action one might expect is not offered (审批分离, a step claimed
by someone else), and, when there is nothing to do, who has the case now."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import chief, engine, fees
from core.cases.action_types import ACTION_LABELS
from core.cases.duties import blocked_by_duties
from core.cases.models import Case, CaseState, CaseTask, FeeStatus
from core.catalog.presentation import STEP_ROLE_LABELS
from core.identity import Principal, Role
from core.tenancy import OrgUnit, Tenant

__all__ = ["AvailableAction", "Availability", "available_actions", "availability"]

#: what the button says, where it differs from the trail's word
BUTTON_LABELS = {"request_correction": "一次性补正", "decide": "当场办结", "review": "审核通过"}
#: actions whose opinion (理由) is required
#: accepting a step returned to the window after acceptance is sending it on again
RESEND_LABEL = "重新报送"
NEEDS_REASON = frozenset({"refuse", "return", "deny", "comment", "suspend", "extend"})
#: actions that end or turn back a case: shown as secondary buttons, asked about first
GRAVE = frozenset({"refuse", "deny", "return"})
#: actions that cannot be taken back though they go forward: asked about first, with what
#: follows (a clerk's slip on 一次性补正 could never be mended: it is asked for once)
CONFIRM = {
    "request_correction": (
        "一次性补正告知只能发出一次，发出后申请人会收到短信。请确认已勾选全部需补正的材料和内容。"
    ),
    "decide": "当场办结后办件即办结，不能撤回。",
    "chief_decide": "首席代表即办将一次完成受理、审核、批准，不能撤回。",
    "approve": "批准后不能撤回。",
    "issue": "发证后不能撤回。",
}


@dataclass(frozen=True)
class AvailableAction:
    code: str
    label: str
    #: the task (step) it acts on, for step actions
    task: str | None = None
    task_name: str = ""
    needs_reason: bool = False
    #: the other inputs the action asks for: materials, fields (补正), kind, days, amount,
    #: reference
    asks: tuple[str, ...] = ()
    grave: bool = False
    #: asked about first, with this said (see CONFIRM); grave ones always are
    confirm: str = ""


@dataclass
class Availability:
    actions: list[AvailableAction] = field(default_factory=list)
    #: why an action one might expect is not offered
    notes: list[str] = field(default_factory=list)
    #: when no work action is offered: who has the case now
    waiting: str = ""

    @property
    def work(self) -> list[AvailableAction]:
        """The actions other than a note on the trail (备注)."""
        return [a for a in self.actions if a.code != "comment"]


def _action(code: str, task: CaseTask | None = None, *asks: str) -> AvailableAction:
    return AvailableAction(
        code=code,
        label=BUTTON_LABELS.get(code, ACTION_LABELS.get(code, code)),
        task=str(task.id) if task is not None else None,
        task_name=task.name if task is not None else "",
        needs_reason=code in NEEDS_REASON,
        asks=asks,
        grave=code in GRAVE,
        confirm=CONFIRM.get(code, ""),
    )


def _step_action(
    session: Session, case: Case, task: CaseTask, code: str, notes: list[str]
) -> AvailableAction | None:
    """The rules of ``core.cases.actions`` for one step action of a task one may work."""
    if code == "accept" and case.state is CaseState.in_progress:
        # the step returned to the window after acceptance (退回): passed on again as accepted
        return replace(_action(code, task), label=RESEND_LABEL)
    if code in ("accept", "refuse") and case.state is not CaseState.submitted:
        return None
    if code == "decide" and fees.fee_total(case.content) > 0:
        notes.append("收费事项不能当场办结，请按一般程序办理")
        return None
    if code == "request_correction":
        if case.corrections:
            notes.append("一次性补正告知已发出过，不能再次要求补正")
            return None
        return _action(code, task, "materials", "fields")
    if code == "issue" and case.fee_status is FeeStatus.unpaid:
        notes.append(f"费用 {case.fee_total} 元未缴清，缴费后才能发证（以费控证）")
        return None
    if (
        code == "approve"
        and case.fee_status is FeeStatus.unpaid
        and case.content.get("result_license")
    ):
        steps = engine.definition_of(case).steps
        if not any("issue" in s.actions for s in steps) and not task_leads_on(case, task):
            notes.append(f"费用 {case.fee_total} 元未缴清，缴费后才能批准发证（以费控证）")
            return None
    if code == "return":
        definition = engine.definition_of(case)
        if not any(task.step in s.next for s in definition.steps):
            return None
    if code not in ACTION_LABELS or code == "submit":
        return None
    return _action(code, task)


def task_leads_on(case: Case, task: CaseTask) -> bool:
    """Whether another step follows this one (approving it does not end the case)."""
    return bool(engine.definition_of(case).step(task.step).next)


def availability(
    session: Session, tenant: Tenant, case: Case, principal: Principal
) -> Availability:
    out = Availability()
    if not principal.is_staff:
        return out
    acts, notes = out.actions, out.notes
    barred = blocked_by_duties(session, tenant, case, principal)
    tasks = engine.open_tasks(session, case)
    workable = [t for t in tasks if engine.may_work(session, principal, t)]
    definition = engine.definition_of(case)
    stepping = case.state in (CaseState.submitted, CaseState.in_progress)
    for task in workable:
        if task.claimed_by is not None and task.claimed_by != principal.id:
            notes.append(f"“{task.name}”已由{task.claimed_name}认领")
            continue
        if not stepping:
            continue
        for code in definition.step(task.step).actions:
            if code in barred:
                if "审批分离" not in " ".join(notes):
                    notes.append(
                        "您已审核过本办件。按审批分离的规定，批准或不予批准须由其他审批人员作出。"
                    )
                continue
            action = _step_action(session, case, task, code, notes)
            if action is not None:
                acts.append(action)
    if chief.why_not(session, tenant, case, principal) is None:
        acts.insert(0, _action("chief_decide"))
    elif reason := chief.why_not(session, tenant, case, principal):
        notes.append(reason)
    # claim: the first step one may work, if nobody has claimed it
    if workable and workable[0].claimed_by is None:
        acts.append(_action("claim", workable[0]))
    works_case = bool(workable) or principal.has_role(Role.approver)
    if case.state is CaseState.in_progress and works_case:
        acts.append(_action("suspend", None, "kind", "days"))
    if case.state is CaseState.suspended and works_case:
        acts.append(_action("resume"))
    limit = int((tenant.settings or {}).get("max_extension_days", 10))
    if (
        case.state is CaseState.in_progress
        and principal.has_role(Role.approver)
        and case.extension_days < limit
    ):
        acts.append(_action("extend", None, "days"))
    if (
        case.fee_status is FeeStatus.unpaid
        and case.state not in (CaseState.refused, CaseState.withdrawn)
        and principal.has_role(Role.window_clerk)
    ):
        acts.append(_action("pay", None, "amount", "reference"))
    if (
        case.state is CaseState.completed
        and (principal.has_role(Role.issuer) or principal.has_role(Role.window_clerk))
        and not (case.delivery_method == "courier" and case.tracking)
    ):
        acts.append(_action("deliver"))
        if case.delivery_method == "courier":  # the courier cannot be booked, or is not wanted
            acts.append(_action("to_pickup"))
    acts.append(_action("comment"))
    if not out.work:
        out.waiting = _waiting(case, tasks, _unit_names(session, tasks))
    return out


def available_actions(
    session: Session, tenant: Tenant, case: Case, principal: Principal
) -> list[AvailableAction]:
    """The actions ``principal`` may take on ``case`` now."""
    return availability(session, tenant, case, principal).actions


_STATE_WAITING = {
    CaseState.draft: "申请人尚未提交",
    CaseState.correcting: "已一次性告知补正，正等待申请人补齐材料",
    CaseState.refused: "此件已不予受理，办理结束",
    CaseState.delivered: "此件已送达，办理结束",
    CaseState.withdrawn: "申请人已撤回，办理结束",
}


def _unit_names(session: Session, tasks: list[CaseTask]) -> dict[uuid.UUID, str]:
    ids = {t.org_unit_id for t in tasks if t.org_unit_id}
    if not ids:
        return {}
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def _waiting(case: Case, tasks: list[CaseTask], units: dict[uuid.UUID, str] | None = None) -> str:
    """Who has the case now, in a sentence: 此件正在审核环节，由审核员办理."""
    if case.state in _STATE_WAITING:
        return _STATE_WAITING[case.state]
    if case.state is CaseState.completed:
        return "此件已办结，待发证员或窗口人员送达"
    if case.state is CaseState.suspended:
        return "此件处于特殊程序中（计时暂停），由当前环节的办理人员结束后继续办理"
    if tasks:
        task = tasks[0]
        who = {
            "window_clerk": "窗口受理员",
            "reviewer": "审核员",
            "approver": "审批人",
            "issuer": "发证员",
            "agent": "村级代办员",
        }.get(task.role, STEP_ROLE_LABELS.get(task.role, "相关工作人员"))
        holder = f"，已由{task.claimed_name}认领" if task.claimed_name else ""
        where = (units or {}).get(task.org_unit_id) if task.org_unit_id else None
        who = f"{where}的{who}" if where else who
        return f"此件正在{task.name}环节，由{who}办理{holder}"
    return "此件当前没有待办环节"

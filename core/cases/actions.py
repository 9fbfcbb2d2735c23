"""Staff actions on a case: the step actions a process definition allows (accept, correction,
refuse, forward, review, return, approve, deny, issue, decide) and the case-wide ones (claim,
comment, suspend, resume, extend, pay, deliver).

The state decides what is possible (409 naming the state), the role decides who (403)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.calendar import calendar_for
from core.cases import clock, engine, fees
from core.cases.access import get_case
from core.cases.action_types import (
    ACTION_LABELS,
    ACTIONS,
    CASE_ACTIONS,
    REMEDY,
    STATE_LABELS,
    STEP_ACTIONS,
    SUSPENSION_KINDS,
    ActionIn,
    MaterialIssue,
)
from core.cases.bundles import settle
from core.cases.chief import on_the_spot
from core.cases.delivery import ship
from core.cases.documents import issue_notice
from core.cases.duties import DECIDING, blocked_by_duties
from core.cases.forms import fields_of
from core.cases.licenses import issue_license
from core.cases.materials import current_materials
from core.cases.messages import notify
from core.cases.models import (
    Case,
    CaseMaterial,
    CaseState,
    CaseSuspension,
    CaseTask,
    TaskState,
)
from core.cases.trail import SYSTEM, Actor, append_event
from core.db import flush_with_effects
from core.errors import Conflict, Forbidden, InvalidInput
from core.identity import Principal, Role
from core.tenancy import Tenant

__all__ = [
    "ACTIONS",
    "STATE_LABELS",
    "SUSPENSION_KINDS",
    "ActionIn",
    "MaterialIssue",
    "deem_approved",
    "perform",
]


def _not_now(case: Case, action: str) -> Conflict:
    label = STATE_LABELS.get(case.state.value, case.state.value)
    doing = ACTION_LABELS.get(action, "执行这项操作")
    return Conflict(f"办件当前状态为“{label}”，现在不能{doing}", field="state")


def _need_reason(payload: ActionIn) -> str:
    reason = payload.reason.strip()
    if not reason:
        if payload.action in ("suspend", "extend"):  # their own reason box, under 其他操作
            what = "延长时限" if payload.action == "extend" else "特殊程序"
            raise InvalidInput(f"请在“其他操作”中填写{what}的理由", field="reason")
        raise InvalidInput("请填写理由", field="reason")
    return reason[:2000]


def _pick_task(session: Session, principal: Principal, case: Case, payload: ActionIn) -> CaseTask:
    definition = engine.definition_of(case)
    candidates = [
        t
        for t in engine.open_tasks(session, case)
        if payload.action in definition.step(t.step).actions
        and (payload.task is None or str(t.id) == payload.task)
    ]
    if case.state not in (CaseState.submitted, CaseState.in_progress) or not candidates:
        raise _not_now(case, payload.action)
    mine = [t for t in candidates if engine.may_work(session, principal, t)]
    if not mine:
        raise Forbidden(f"您没有办理“{candidates[0].name}”环节的权限")
    if len(mine) > 1:
        raise InvalidInput("有多个环节可办理，请指定 task", field="task")
    engine.require_worker(session, principal, mine[0])
    return mine[0]


def perform(
    session: Session, tenant: Tenant, principal: Principal, number: str, payload: ActionIn
) -> Case:
    """Run one action (the caller commits; see ``core.cases.service.commit``)."""
    if not principal.is_staff:
        raise Forbidden("仅限工作人员")
    case = get_case(session, number, principal, lock=True, with_tasks=True)
    if payload.action not in STEP_ACTIONS | CASE_ACTIONS:
        raise InvalidInput("没有这个操作", field="action")  # never echo what was sent
    actor = Actor.of(principal)
    # only a decision can be barred: other actions need not read who reviewed the case
    if payload.action in DECIDING and payload.action in blocked_by_duties(
        session, tenant, case, principal
    ):
        raise Forbidden(
            "审核和批准须由不同人员办理：您已审核过本办件，请由其他审批人员作出决定",
            field="action",
        )
    ctx = _Ctx(session, tenant, principal, case, actor, payload)
    try:
        if payload.action in STEP_ACTIONS:
            task = _pick_task(session, principal, case, payload)
            getattr(ctx, "do_" + payload.action)(task)
        else:
            getattr(ctx, "do_" + payload.action)()
        if case.parent_id or case.bundle_code:  # joint approval: the parent may be done now
            settle(session, tenant, case)
        # one flush: the texts to the staff whose step opened go with the step, not at commit
        flush_with_effects(session)
    except (StaleDataError, IntegrityError) as exc:
        # someone else changed the case since it was read: one of two wins, the other 409s
        session.rollback()
        raise Conflict("办件已被他人同时处理，请刷新后重试") from exc
    return case


def deem_approved(session: Session, tenant: Tenant, case: Case, task: CaseTask) -> None:
    """视为准予: approve a step whose limit has passed, where the definition turns it on."""
    system = Principal(
        kind="system", id=None, name="系统", tenant_id=tenant.id, province_id=tenant.province_id
    )
    reason = "逾期未作出决定，依法视为准予"
    ctx = _Ctx(session, tenant, system, case, SYSTEM, ActionIn(action="approve", reason=reason))
    ctx.do_approve(task)
    if case.parent_id:
        settle(session, tenant, case)


class _Ctx:
    def __init__(
        self,
        session: Session,
        tenant: Tenant,
        principal: Principal,
        case: Case,
        actor: Actor,
        payload: ActionIn,
    ) -> None:
        self.s, self.tenant, self.principal, self.case = session, tenant, principal, case
        self.actor, self.p, self.today = actor, payload, clock.today()

    # -- helpers --------------------------------------------------------------------------

    def event(
        self, before: str, task: CaseTask | None = None, reason: str | None = None, **data: Any
    ) -> None:
        """On the trail; the opinion typed with the action unless another reason is given."""
        reason = self.p.reason.strip()[:2000] if reason is None else reason
        where = {"from_state": before, "step": task.step if task else "", "reason": reason}
        append_event(self.s, self.case, self.actor, self.p.action, data=data, **where)

    def close(self, task: CaseTask, outcome: str) -> None:
        task.state, task.outcome, task.finished_at = TaskState.done, outcome, clock.now()

    def advance(self, task: CaseTask, outcome: str) -> bool:
        with self.s.no_autoflush:  # the next task is inserted with its deadline, once
            _, ended = engine.finish(self.s, self.case, task, outcome, self.today)
            engine.recompute_deadlines(self.s, self.tenant, self.case)
        return ended

    def complete(self, decision: str, reason: str = "") -> None:
        case = self.case
        case.state, case.completed_at = CaseState.completed, clock.now()
        case.decision, case.decision_reason = decision, reason or None
        engine.stop_clock(self.s, self.tenant, case)
        engine.cancel_open(self.s, case)
        steps = engine.definition_of(case).steps
        has_issue_step = any("issue" in s.actions for s in steps)
        lines = []
        if decision == "approved":
            if not has_issue_step and case.content.get("result_license"):
                fees.require_paid(case)
                lic = issue_license(self.s, self.tenant, case)
                lines.append(f"已为您签发电子证照《{lic.title}》，证照编号 {lic.number}。")
            lines.insert(0, "您申请的事项已办结，决定：准予。")
        else:
            lines = [f"您申请的事项已办结，决定：不予批准。理由：{reason}", REMEDY]
            fees.refund_if_paid(self.s, self.tenant, case, self.actor, "不予批准")
        method = "快递寄送" if case.delivery_method == "courier" else "窗口领取"
        lines.append(f"办理结果将通过{method}方式送达。欢迎对本次服务进行评价。")
        issue_notice(self.s, self.tenant, case, "completion", lines)
        place = engine.pickup_place(self.s, case) if decision == "approved" else None
        notify(
            self.s,
            self.tenant,
            case,
            "case_completed",
            decision="准予" if decision == "approved" else "不予批准",
            # where and with what to collect it, in the message itself (窗口领取)
            pickup=f"请携带本人身份证原件到{place.name}领取。" if place is not None else "",
        )
        notify(self.s, self.tenant, case, "rating_request")  # a reply of 0-100 rates it

    # -- step actions ---------------------------------------------------------------------

    def do_accept(self, task: CaseTask) -> None:
        case, before = self.case, self.case.state.value
        if case.state is CaseState.in_progress:
            # a reviewer returned the case to the window (退回) after it was accepted: the
            # window sends it on again once what was asked is put right (重新报送); it stays
            # accepted as it was, its clock running from the acceptance
            self._pass(task, "resent")
            return
        if case.state is not CaseState.submitted:
            raise _not_now(case, "accept")
        case.state, case.accepted_on = CaseState.in_progress, self.today
        case.accepted_by, case.accepted_by_name = self.principal.id, self.principal.name
        ended = self.advance(task, "accepted")
        billed = fees.bill(self.s, self.tenant, case)
        self.event(before, task, due_on=str(case.due_on), legal_due_on=str(case.legal_due_on))
        issue_notice(
            self.s,
            self.tenant,
            case,
            "acceptance",
            [
                "您提交的申请材料齐全、符合法定形式，决定予以受理。",
                f"承诺办结时限：{case.content.get('promised_days', 0)} 个工作日，"
                f"预计于 {case.due_on:%Y年%m月%d日} 前办结（法定时限 "
                f"{case.content.get('legal_days', 0)} 个工作日，节假日不计）。",
            ],
            extra=[("受理日期", f"{self.today:%Y年%m月%d日}")],
        )
        notify(self.s, self.tenant, case, "case_accepted", due_on=f"{case.due_on:%m月%d日}")
        if billed:
            notify(self.s, self.tenant, case, "case_payment", amount=case.fee_total)
        if ended:
            self.complete("approved")

    def do_decide(self, task: CaseTask) -> None:
        """即办: accepted and decided at the counter in one action."""
        case, before = self.case, self.case.state.value
        if fees.fee_total(case.content) > 0:
            raise Conflict("收费事项不能即办，请按一般程序办理", field="action")
        case.state, case.accepted_on = CaseState.in_progress, self.today
        case.accepted_by, case.accepted_by_name = self.principal.id, self.principal.name
        self.advance(task, "decided")
        self.event(before, task)
        self.complete("approved")

    def do_request_correction(self, task: CaseTask) -> None:
        case, before = self.case, self.case.state.value
        if case.corrections:
            raise Conflict("一次性补正告知已发出过，不能再次要求补正", field="action")
        specs = case.content.get("materials") or []
        if not self.p.materials and not self.p.fields:
            raise InvalidInput("请列出需要补正的全部材料或申请表内容", field="materials")
        form_fields = {f.key: f for f in fields_of(case) if f.holds_value}
        for i, wrong in enumerate(self.p.fields):
            if wrong.key not in form_fields:
                raise InvalidInput("申请表没有这一项", field=f"fields[{i}].key")
            if not wrong.reason.strip():
                raise InvalidInput("请写明补正要求", field=f"fields[{i}].reason")
        seen: set[int] = set()
        for i, issue in enumerate(self.p.materials):
            if not 0 <= issue.index < len(specs) or issue.index in seen:
                raise InvalidInput("材料序号不正确", field=f"materials[{i}].index")
            if not issue.reason.strip():
                raise InvalidInput("请写明补正要求", field=f"materials[{i}].reason")
            seen.add(issue.index)
        present = {m.spec_index: m for m in current_materials(self.s, case)}
        for issue in self.p.materials:
            row = present.get(issue.index)
            if row is None:  # an absent material: a placeholder the applicant must fill
                row = CaseMaterial(
                    tenant_id=case.tenant_id,
                    case_id=case.id,
                    spec_index=issue.index,
                    name=specs[issue.index]["name"],
                    source="missing",
                    encrypted=False,
                )
                self.s.add(row)
            row.status = "rejected"
        self.close(task, "correction")
        case.state, case.corrections = CaseState.correcting, case.corrections + 1
        case.corrected_at, case.corrected_by = clock.now(), self.principal.id
        case.corrected_by_name = self.principal.name
        listed = [
            {"index": m.index, "name": specs[m.index]["name"], "reason": m.reason.strip()}
            for m in self.p.materials
        ]
        named = [
            {"key": w.key, "label": form_fields[w.key].label, "reason": w.reason.strip()}
            for w in self.p.fields
        ]
        self.event(before, task, self.p.reason.strip(), materials=listed, fields=named)
        issue_notice(
            self.s,
            self.tenant,
            case,
            "correction",
            [
                "经审查，您提交的申请材料不齐全或者不符合法定形式，现一次性告知需要补正的全部内容如下。",
                "请按要求一次补齐后重新提交；补齐后受理时限重新计算。",
            ],
            table=[["序号", "需补正的内容", "补正要求"]]
            + [[str(m["index"] + 1), m["name"], m["reason"]] for m in listed]
            + [[f"表{n}", f"申请表：{w['label']}", w["reason"]] for n, w in enumerate(named, 1)],
        )
        notify(self.s, self.tenant, case, "case_correction")

    def do_refuse(self, task: CaseTask) -> None:
        case, before = self.case, self.case.state.value
        if case.state is not CaseState.submitted:
            raise _not_now(case, "refuse")
        reason = _need_reason(self.p)
        self.close(task, "refused")
        engine.cancel_open(self.s, case)
        case.state, case.decision_reason, case.due_on = CaseState.refused, reason, None
        self.event(before, task, reason)
        issue_notice(
            self.s,
            self.tenant,
            case,
            "refusal",
            [f"经审查，您的申请不予受理。理由：{reason}", REMEDY],
        )
        fees.refund_if_paid(self.s, self.tenant, case, self.actor, "不予受理")
        notify(self.s, self.tenant, case, "case_refused", reason=reason[:60])

    def _pass(self, task: CaseTask, outcome: str) -> None:
        before = self.case.state.value
        ended = self.advance(task, outcome)
        self.event(before, task)
        if ended:
            self.complete("approved")

    def do_forward(self, task: CaseTask) -> None:
        self._pass(task, "forwarded")

    def do_review(self, task: CaseTask) -> None:
        self._pass(task, "passed")

    def do_approve(self, task: CaseTask) -> None:
        self._pass(task, "approved")

    def do_return(self, task: CaseTask) -> None:
        before, reason = self.case.state.value, _need_reason(self.p)
        engine.reopen_before(self.s, self.case, task, self.today)
        self.s.flush()
        engine.recompute_deadlines(self.s, self.tenant, self.case)
        self.event(before, task, reason)

    def do_deny(self, task: CaseTask) -> None:
        before, reason = self.case.state.value, _need_reason(self.p)
        self.close(task, "denied")
        self.event(before, task, reason)
        self.complete("denied", reason)

    def do_issue(self, task: CaseTask) -> None:
        fees.require_paid(self.case)
        before = self.case.state.value
        lic = issue_license(self.s, self.tenant, self.case)
        ended = self.advance(task, "issued")
        self.event(before, task, license=lic.number, code=lic.code)
        if ended:
            self.complete("approved")
            self.s.flush()

    # -- case actions ---------------------------------------------------------------------

    def do_claim(self) -> None:
        tasks = [
            t
            for t in engine.open_tasks(self.s, self.case)
            if self.p.task is None or str(t.id) == self.p.task
        ]
        if not tasks:
            raise _not_now(self.case, "claim")
        task = next((t for t in tasks if engine.may_work(self.s, self.principal, t)), None)
        if task is None:
            raise Forbidden(f"您没有办理“{tasks[0].name}”环节的权限")
        engine.require_worker(self.s, self.principal, task)
        if task.claimed_by == self.principal.id:
            raise Conflict(f"您已认领“{task.name}”")
        task.claimed_by, task.claimed_name = self.principal.id, self.principal.name
        self.case.updated_at = clock.now()
        self.event(self.case.state.value, task)

    def do_comment(self) -> None:
        self.event(self.case.state.value, None, _need_reason(self.p))

    def do_chief_decide(self) -> None:  # 首席代表即办: core/cases/chief.py
        on_the_spot(self)

    def _works_case(self) -> None:
        tasks = engine.open_tasks(self.s, self.case)
        if not any(engine.may_work(self.s, self.principal, t) for t in tasks) and not (
            self.principal.has_role(Role.approver)
        ):
            raise Forbidden("只有当前环节的办理人或审批人可以执行此操作")

    def do_suspend(self) -> None:
        case, before = self.case, self.case.state.value
        if case.state is not CaseState.in_progress:
            raise _not_now(case, "suspend")
        self._works_case()
        if self.p.kind not in SUSPENSION_KINDS:
            raise InvalidInput("特殊程序种类应为听证、现场检测、专家评审或公示", field="kind")
        if not self.p.days or not 1 <= self.p.days <= 180:
            raise InvalidInput("请填写特殊程序的时限（1-180 个工作日）", field="days")
        reason = _need_reason(self.p)
        self.s.add(
            CaseSuspension(
                tenant_id=case.tenant_id,
                case_id=case.id,
                kind=self.p.kind,
                reason=reason,
                limit_days=self.p.days,
                start_on=self.today,
                created_at=clock.now(),
            )
        )
        case.state = CaseState.suspended
        self.s.flush()
        engine.recompute_deadlines(self.s, self.tenant, case)
        self.event(before, None, reason, kind=self.p.kind, limit_days=self.p.days)

    def do_resume(self) -> None:
        case, before = self.case, self.case.state.value
        if case.state is not CaseState.suspended:
            raise _not_now(case, "resume")
        self._works_case()
        ended = engine.end_suspensions(self.s, case)
        calendar = calendar_for(self.s, self.tenant)
        # The working days the clock stood still: those of the period after the day the
        # clock started (acceptance, itself never counted), exactly what the deadlines skip.
        clock_start = case.accepted_on
        counted = sum(
            calendar.working_days_between(
                max(r.start_on - timedelta(days=1), clock_start or r.start_on), r.end_on
            )
            for r in ended
            if r.end_on is not None and r.end_on >= r.start_on
        )
        case.state = CaseState.in_progress
        engine.recompute_deadlines(self.s, self.tenant, case, calendar)
        self.event(before, None, suspended_working_days=counted, due_on=str(case.due_on))

    def do_extend(self) -> None:
        case, before = self.case, self.case.state.value
        if case.state is not CaseState.in_progress:
            raise _not_now(case, "extend")
        if not self.principal.has_role(Role.approver):
            raise Forbidden("延长办理时限须经审批人批准")
        reason = _need_reason(self.p)
        limit = int(self.tenant.settings.get("max_extension_days", 10))
        days = self.p.days or 0
        if not days >= 1 or case.extension_days + days > limit:
            raise InvalidInput(f"延长时限应为 1 天以上，累计不超过 {limit} 个工作日", field="days")
        case.extension_days += days
        for task in engine.open_tasks(self.s, case):
            task.days += days
        engine.recompute_deadlines(self.s, self.tenant, case)
        self.event(before, None, reason, days=days, due_on=str(case.due_on))

    def do_pay(self) -> None:
        if not self.principal.has_role(Role.window_clerk):
            raise Forbidden("窗口收费须由窗口受理员登记")
        fees.record_payment(
            self.s,
            self.tenant,
            self.case,
            self.actor,
            self.p.amount or "",
            "counter",
            self.p.reference or f"counter-{self.case.number}",
        )

    def do_deliver(self) -> None:
        case, before = self.case, self.case.state.value
        if case.state is not CaseState.completed:
            raise _not_now(case, "deliver")
        if not (self.principal.has_role(Role.issuer) or self.principal.has_role(Role.window_clerk)):
            raise Forbidden("只有发证员或窗口人员可以送达")
        if case.delivery_method == "courier":  # handed to the courier: delivered on sign-off
            if case.tracking:
                raise Conflict("结果已交寄，待快递签收", field="state")
            case.tracking = ship(self.s, self.tenant, case)
            case.updated_at = clock.now()
            self.event(before, None, method="courier", **case.tracking)
            notify(
                self.s,
                self.tenant,
                case,
                "case_shipped",
                carrier=case.tracking["carrier"],
                tracking_number=case.tracking["tracking_number"],
            )
            return
        case.state, case.delivered_at = CaseState.delivered, clock.now()
        self.event(before, None, method=case.delivery_method)
        notify(self.s, self.tenant, case, "case_delivered", method="窗口领取")

    def do_to_pickup(self) -> None:
        """改为窗口领取: a result not yet handed to the courier waits at the window instead
        (the courier cannot be booked, or the applicant asked); the applicant is told."""
        case, before = self.case, self.case.state.value
        if case.state is not CaseState.completed:
            raise _not_now(case, "to_pickup")
        if not (self.principal.has_role(Role.issuer) or self.principal.has_role(Role.window_clerk)):
            raise Forbidden("只有发证员或窗口人员可以改变送达方式")
        if case.delivery_method != "courier":
            raise Conflict("本办件已是窗口领取", field="action")
        if case.tracking:
            raise Conflict("结果已交寄，待快递签收，不能再改为窗口领取", field="action")
        case.delivery_method = "pickup"
        case.updated_at = clock.now()
        self.event(before, None, method="pickup", previous="courier")
        notify(self.s, self.tenant, case, "case_pickup")

"""The staff workbench: the queue of tasks a staff member may work (htmx, refreshed), a case
with its materials, notices, deadlines and card colour, and the action forms its open steps
allow."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.calendar import WorkCalendar, calendar_for
from core.cases import clock, engine, forms, materials, queries, service
from core.cases.access import get_case
from core.cases.action_types import FieldIssue
from core.cases.actions import (
    STATE_LABELS,
    SUSPENSION_KINDS,
    ActionIn,
    MaterialIssue,
    perform,
)
from core.cases.documents import notice_pdf
from core.cases.duties import blocked_by_duties
from core.cases.models import Case, CaseEvent, CaseMaterial
from core.errors import GovhallError, InvalidInput, NotFound
from core.forms import lines
from core.identity import Principal
from core.tenancy import Tenant
from web.api.case_schemas import case_out
from web.auth import require_staff
from web.pages.cases import back, pdf_response
from web.pages.portal import render
from web.params import Form

__all__ = ["WorkbenchPages", "card_colour"]


def card_colour(due_on: date | None, today: date, calendar: WorkCalendar) -> str:
    """green: in time; yellow: due within one working day; red: overdue; grey: no clock."""
    if due_on is None:
        return "grey"
    if due_on < today:
        return "red"
    return "yellow" if calendar.working_days_between(today, due_on) <= 1 else "green"


class WorkbenchPages(Controller):
    path = "/t/{slug:str}/workbench"
    include_in_schema = False

    @get("/queue", name="workbench_queue", sync_to_thread=True)
    def queue(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        me = require_staff(principal)
        calendar, today = calendar_for(db, tenant), clock.today()
        rows = [
            (task, case, card_colour(task.due_on, today, calendar))
            for task, case in queries.work_queue(db, me)
        ]
        return render(request, db, tenant, "staff/_queue.html", rows=rows, labels=STATE_LABELS)

    @get("/cases/{number:str}", name="workbench_case", sync_to_thread=True)
    def case(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
        msg: str = "",
        error: str = "",
    ) -> Template:
        return self._page(request, tenant, db, require_staff(principal), number, msg, error)

    def _page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        me: Principal,
        number: str,
        msg: str = "",
        error: str = "",
        *,
        revealed: bool = False,
    ) -> Template:
        case = get_case(db, number, me)
        out = case_out(db, case, me)
        definition = engine.definition_of(case)
        calendar, today = calendar_for(db, tenant), clock.today()
        barred = blocked_by_duties(db, tenant, case, me)  # 审批分离
        mine = [
            (
                t,
                [a for a in definition.step(t.step).actions if a not in barred],
                card_colour(t.due_on, today, calendar),
            )
            for t in engine.open_tasks(db, case)
            if engine.may_work(db, me, t)
        ]
        events = db.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        ).all()
        return render(
            request,
            db,
            tenant,
            "staff/case.html",
            case=out,
            delivery_address=case.delivery_address,  # staff post the result there
            specs=case.content.get("materials") or [],
            form_fields=[f for f in forms.fields_of(case) if f.holds_value],
            mine=mine,
            barred=barred,
            events=events,
            msg=msg,
            error=error,
            kinds=SUSPENSION_KINDS,
            me=me,
            card=card_colour(case.due_on, today, calendar),
            **_form_view(case, revealed=revealed),
        )

    @post("/cases/{number:str}/form/reveal", name="workbench_form_reveal", sync_to_thread=True)
    def reveal(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
    ) -> Template:
        """The personal values of the form, for this page view only; the reveal is on the
        trail, with who asked."""
        me = require_staff(principal)
        forms.reveal(db, me, number)
        service.commit(db)
        if not request.headers.get("hx-request"):
            return self._page(request, tenant, db, me, number, revealed=True)
        case = get_case(db, number, me)
        return render(
            request,
            db,
            tenant,
            "staff/_form.html",
            case=case_out(db, case, me),
            **_form_view(case, revealed=True),
        )

    @post("/cases/{number:str}/act", name="workbench_act", sync_to_thread=True)
    def act(
        self, tenant: Tenant, db: Session, principal: Principal | None, number: str, data: Form
    ) -> Redirect:
        me = require_staff(principal)
        url = f"/t/{tenant.slug}/workbench/cases/{number}"
        try:
            payload = _payload(data)
            perform(db, tenant, me, number, payload)
            service.commit(db)
        except GovhallError as exc:
            db.rollback()
            return back(url, error=exc.detail)
        return back(url, msg="已办理。")

    @get("/cases/{number:str}/notices/{code:str}", name="workbench_notice", sync_to_thread=True)
    def notice(
        self, db: Session, principal: Principal | None, number: str, code: str
    ) -> Response[bytes]:
        case = get_case(db, number, require_staff(principal))
        return pdf_response(*notice_pdf(db, case, code))

    @get(
        "/cases/{number:str}/materials/{material_id:uuid}",
        name="workbench_material",
        sync_to_thread=True,
    )
    def material(
        self,
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
        material_id: Any,
    ) -> Redirect:
        case = get_case(db, number, require_staff(principal))
        row = db.get(CaseMaterial, (tenant.id, material_id))
        if row is None or row.case_id != case.id or not row.storage_key:
            raise NotFound("材料不存在")
        return Redirect(materials.material_link(tenant, row))


def _form_view(case: Case, *, revealed: bool) -> dict[str, Any]:
    """The filled form as the case page shows it: lines (personal values masked unless
    revealed), and what a correction changed since the first submission."""
    fields = forms.fields_of(case)
    values = dict(case.form or {})
    changed = (
        forms.changed_keys(dict(case.form_first), values) if case.form_first is not None else []
    )
    first = lines(fields, dict(case.form_first or {}), reveal=revealed) if changed else []
    return {
        "lines": lines(fields, values, reveal=revealed),
        "changed": changed,
        "was": {line.path: line.text for line in first},
        "staff_view": True,
        "revealed": revealed,
        "has_personal": any(f.personal for f in fields)
        or any(k not in {f.key for f in fields} for k in values),
    }


def _payload(data: dict[str, str]) -> ActionIn:
    """The action form: checked material boxes ``m{index}`` with reasons ``r{index}``, and
    checked form fields ``f.{key}`` with reasons ``fr.{key}``."""
    issues, wrong = [], []
    for key, value in data.items():
        if key.startswith("m") and key[1:].isdigit() and value == "on":
            index = int(key[1:])
            issues.append(MaterialIssue(index=index, reason=data.get(f"r{index}", "").strip()))
        elif key.startswith("f.") and value == "on":
            field = key[2:]
            wrong.append(FieldIssue(key=field, reason=data.get(f"fr.{field}", "").strip()))
    days = data.get("days", "").strip()
    try:
        number_of_days = int(days) if days else None
    except ValueError:
        raise InvalidInput("天数应为整数", field="days") from None
    return ActionIn(
        action=data.get("action", ""),
        task=data.get("task") or None,
        reason=data.get("reason", ""),
        materials=issues,
        fields=wrong,
        kind=data.get("kind") or None,
        days=number_of_days,
        amount=data.get("amount") or None,
        reference=data.get("reference", ""),
    )

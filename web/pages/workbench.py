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
from core.cases import clock, engine, materials, queries, service
from core.cases.access import get_case
from core.cases.actions import STATE_LABELS, SUSPENSION_KINDS, ActionIn, MaterialIssue, perform
from core.cases.documents import notice_pdf
from core.cases.models import CaseEvent, CaseMaterial
from core.errors import GovhallError, InvalidInput, NotFound
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
        me = require_staff(principal)
        case = get_case(db, number, me)
        out = case_out(db, case, me)
        definition = engine.definition_of(case)
        calendar, today = calendar_for(db, tenant), clock.today()
        mine = [
            (t, definition.step(t.step).actions, card_colour(t.due_on, today, calendar))
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
            specs=case.content.get("materials") or [],
            mine=mine,
            events=events,
            msg=msg,
            error=error,
            kinds=SUSPENSION_KINDS,
            me=me,
            card=card_colour(case.due_on, today, calendar),
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


def _payload(data: dict[str, str]) -> ActionIn:
    """The action form: checked material boxes ``m{index}`` with reasons ``r{index}``."""
    issues = []
    for key, value in data.items():
        if key.startswith("m") and key[1:].isdigit() and value == "on":
            index = int(key[1:])
            issues.append(MaterialIssue(index=index, reason=data.get(f"r{index}", "").strip()))
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
        kind=data.get("kind") or None,
        days=number_of_days,
        amount=data.get("amount") or None,
        reference=data.get("reference", ""),
    )

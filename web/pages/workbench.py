"""The staff workbench: queues per step with counts, filters and paging (htmx), and a case
with its applicant, delivery, form, materials (previewed inline), notices, trail and the
actions ``core.cases.available`` offers the person now."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.calendar import calendar_for
from core.cases import clock, engine, forms, materials, service
from core.cases.access import get_case
from core.cases.action_types import ACTION_LABELS, FieldIssue
from core.cases.actions import (
    STATE_LABELS,
    SUSPENSION_KINDS,
    ActionIn,
    MaterialIssue,
    perform,
)
from core.cases.available import availability
from core.cases.documents import notice_pdf
from core.cases.models import Case, CaseEvent, CaseMaterial
from core.cases.queue import COLOURS, QUEUES, QueueFilter, card_colour, staff_queue
from core.cases.trail import Actor, append_event
from core.errors import GovhallError, InvalidInput, NotFound
from core.forms import lines, mask, visible
from core.identity import Account, Principal, Role
from core.tenancy import Tenant
from web.api.case_schemas import case_out
from web.auth import require_staff
from web.idempotency import page_once
from web.pages.cases import back, pdf_response
from web.pages.portal import render
from web.params import Form

__all__ = ["WorkbenchPages", "card_colour"]


def _filter(query: Any) -> QueueFilter:
    """The queue's filters from the query string; anything malformed is left out."""
    try:
        due = date.fromisoformat(query.get("due_before") or "")
    except ValueError:
        due = None
    page = query.get("page") or "1"
    return QueueFilter(
        queue=q if (q := query.get("queue") or "") in QUEUES else "",
        item=(query.get("item") or "")[:60],
        department=(query.get("department") or "")[:40],
        colour=c if (c := query.get("colour") or "") in COLOURS else "",
        due_before=due,
        page=int(page) if page.isdigit() else 1,
    )


#: the decisions a person signs with an opinion on the case's page (审核意见, 审批意见): the
#: record of who decided and why. The API leaves it to the calling system.
SIGNED_OPINIONS = {"review": "审核意见", "approve": "审批意见", "chief_decide": "办理意见"}


def _signed_opinion(payload: Any) -> None:
    label = SIGNED_OPINIONS.get(payload.action)
    if label and not payload.reason.strip():
        raise InvalidInput(f"请填写{label}，如：同意。材料齐全，符合法定条件。", field="reason")


_CASE_NUMBER = re.compile(r"\d{6}-\d{8}-\d{5}")


def _outside_the_queue(db: Session, me: Principal, wanted: QueueFilter) -> Any:
    """A case asked for by its number that is not waiting on this person (done with, at
    another step, or finished), when they may see it: a citizen on the phone names it."""
    number = wanted.item.strip()
    if not _CASE_NUMBER.fullmatch(number):
        return None
    try:
        return get_case(db, number, me)
    except NotFound:
        return None


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
        wanted = _filter(request.query_params)
        result = staff_queue(db, me, today, calendar, wanted)
        return render(
            request,
            db,
            tenant,
            "staff/_queue.html",
            result=result,
            wanted=wanted,
            queues=QUEUES,
            labels=STATE_LABELS,
            elsewhere=_outside_the_queue(db, me, wanted) if not result.total else None,
        )

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
        revealed_applicant: bool = False,
    ) -> Template:
        case = get_case(db, number, me)
        out = case_out(db, case, me)
        calendar, today = calendar_for(db, tenant), clock.today()
        can = availability(db, tenant, case, me)  # the one list the API shows too
        tasks = {str(t.id): t for t in engine.open_tasks(db, case)}
        steps: dict[str, list[Any]] = {}
        for a in can.work:
            if a.task:
                steps.setdefault(a.task, []).append(a)
        mine = [
            (
                tasks[tid],
                acts,
                card_colour(tasks[tid].due_on, today, calendar, tasks[tid].started_on),
            )
            for tid, acts in steps.items()
            if tid in tasks
        ]
        case_wide = [a for a in can.work if not a.task]
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
            # the fields the applicant was shown (a renter's landlord, not for a job holder):
            # only those can be asked to be corrected
            form_fields=[
                f
                for f in forms.fields_of(case)
                if f.holds_value and visible(f, dict(case.form or {}))
            ],
            mine=mine,
            case_wide=case_wide,
            can=can,
            trail=_trail(events),
            applicant=_applicant(db, tenant, case, me, revealed=revealed_applicant),
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

    @post(
        "/cases/{number:str}/applicant/reveal",
        name="workbench_applicant_reveal",
        sync_to_thread=True,
    )
    def reveal_applicant(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
    ) -> Template:
        """The applicant's full phone and ID number, for this page view only; the reveal is
        on the trail, with who asked."""
        me = require_staff(principal)
        case = get_case(db, number, me, lock=True)
        append_event(
            db,
            case,
            Actor.of(me),
            "applicant_revealed",
            from_state=case.state.value,
            data={"fields": ["phone", "id_number"] if may_see_id_number(me, case) else ["phone"]},
        )
        service.commit(db)
        if not request.headers.get("hx-request"):
            return self._page(request, tenant, db, me, number, revealed_applicant=True)
        return render(
            request,
            db,
            tenant,
            "staff/_applicant.html",
            case=case_out(db, case, me),
            applicant=_applicant(db, tenant, case, me, revealed=True),
        )

    @post("/cases/{number:str}/act", name="workbench_act", sync_to_thread=True)
    @page_once  # the form's hidden key: posted twice, done once
    def act(
        self, tenant: Tenant, db: Session, principal: Principal | None, number: str, data: Form
    ) -> Redirect:
        me = require_staff(principal)
        url = f"/t/{tenant.slug}/workbench/cases/{number}"
        try:
            payload = _payload(data)
            _signed_opinion(payload)
            perform(db, tenant, me, number, payload)
            service.commit(db)
        except GovhallError as exc:
            db.rollback()
            return back(url, error=exc.detail)
        return back(url, msg=_done(payload.action))

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
        return Redirect(
            materials.material_link(tenant, _material(db, tenant, principal, number, material_id))
        )

    @get(
        "/cases/{number:str}/materials/{material_id:uuid}/preview",
        name="workbench_material_preview",
        sync_to_thread=True,
    )
    def preview(
        self,
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
        material_id: Any,
    ) -> Response[bytes]:
        """The material itself, shown inline on the case page: an image in <img>, a PDF in an
        <iframe> of this page only (frame-ancestors 'self'); its type is the one sniffed at
        upload, never the name's, and nosniff keeps the browser to it."""
        row = _material(db, tenant, principal, number, material_id)
        kind = row.content_type if row.content_type in materials.ALLOWED_TYPES else ""
        return Response(
            b"".join(materials.open_material(row)),
            media_type=kind or "application/octet-stream",
            headers={
                "content-disposition": "inline" if kind else "attachment",
                "cache-control": "private, no-store",
                "x-frame-options": "SAMEORIGIN",
                "content-security-policy": "default-src 'none'; frame-ancestors 'self'",
                "x-content-type-options": "nosniff",
            },
        )


def _material(
    db: Session, tenant: Tenant, principal: Principal | None, number: str, material_id: Any
) -> CaseMaterial:
    case = get_case(db, number, require_staff(principal))
    row = db.get(CaseMaterial, (tenant.id, material_id))
    if row is None or row.case_id != case.id or not row.storage_key:
        raise NotFound("材料不存在")
    return row


#: the roles that work cases: only they (and supervisors) see an applicant's whole ID number
_CASE_ROLES = (Role.window_clerk, Role.reviewer, Role.approver, Role.issuer, Role.supervisor)


def may_see_id_number(me: Principal, case: Case) -> bool:
    """Whether a reveal shows ``me`` the applicant's whole ID number: not to whoever filed the
    case for someone (an agent or a clerk knows what they typed; the number the person
    confirmed is not theirs to learn), nor to an administrator who works no cases."""
    if case.agent_id is not None and case.agent_id == me.id:
        return False
    return any(me.has_role(role) for role in _CASE_ROLES)


def _applicant(
    db: Session, tenant: Tenant, case: Case, me: Principal, *, revealed: bool
) -> dict[str, Any]:
    """Who applied: the name, the phone and ID number masked unless revealed (on the trail);
    an enterprise's credit code is public. The whole ID number only to those who may see it
    (:func:`may_see_id_number`)."""
    account = db.get(Account, (tenant.province_id, case.applicant_id))
    phone = case.applicant_phone or ""
    id_number = (account.id_number or "") if account is not None else ""
    whole_id = revealed and may_see_id_number(me, case)
    return {
        "name": case.applicant_name,
        "enterprise": case.applicant_kind == "enterprise",
        "phone": phone if revealed else _masked_phone(phone),
        "id_number": id_number if whole_id else (mask(id_number) if id_number else ""),
        "id_withheld": revealed and bool(id_number) and not whole_id,
        "credit_code": (account.credit_code or "") if account is not None else "",
        "revealed": revealed,
        "agent": case.agent_name or "",
    }


def _masked_phone(phone: str) -> str:
    """``138****0008``."""
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else mask(phone)


def _trail(events: Any) -> list[dict[str, str]]:
    """The trail as the page's timeline: the action's Chinese name, who and when, the opinion."""
    out = []
    for e in events:
        label = ACTION_LABELS.get(e.action, "其他操作")
        out.append({"title": label, "who": e.actor_name, "at": e.at, "text": e.reason or ""})
    return out


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
        "has_personal": any(f.is_personal for f in fields)
        or any(k not in {f.key for f in fields} for k in values),
    }


#: what the page says once an action is done, where "已<action>。" would not say enough
DONE = {
    "request_correction": "已发出一次性补正告知，申请人会收到短信；补正后办件回到本环节。",
    "accept": "已受理，办件已转入下一环节。",
    "review": "已审核通过，办件已转入下一环节。",
    "return": "已退回，办件回到上一环节。",
    "decide": "已当场办结。",
    "claim": "已认领，本环节由您办理。",
}


def _done(action: str) -> str:
    return DONE.get(action) or f"已{ACTION_LABELS.get(action, '办理')}。"


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

"""在线咨询与投诉 pages: a citizen asks about an item or complains about one of their cases and
follows the answers (我的咨询与投诉); the department's staff see the open questions in their
workbench, answer them and may publish a question's answer as the item's 常见问题."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import consult
from core.calendar import calendar_for
from core.cases import clock, service
from core.cases.models import Case, CaseState
from core.consult import Consultation
from core.errors import GovhallError, InvalidInput, NotFound
from core.identity import Principal
from core.tenancy import Tenant
from web.auth import require_account, require_staff
from web.pages.cases import back
from web.pages.portal import render
from web.pages.workbench import card_colour
from web.params import Form

__all__ = ["ConsultPages"]

#: a state in plain words and the colour of its badge
STATE_TONES = {"waiting": "warning", "answered": "success", "overdue": "danger"}


def view(row: Consultation, departments: dict[str, str], **extra: Any) -> dict[str, Any]:
    """What a page shows of a question: labels, never codes."""
    state = consult.state_of(row)
    return {
        "number": row.number,
        "kind": row.kind,
        "kind_label": consult.KIND_LABELS.get(row.kind, ""),
        "state": state,
        "state_label": consult.STATE_LABELS[state],
        "state_tone": STATE_TONES[state],
        "item_code": row.item_code,
        "item_name": row.item_name,
        "case_number": row.case_number,
        "department": departments.get(row.department_code, ""),
        "subject": row.subject,
        "text": row.text,
        "created_at": row.created_at,
        "due_on": row.due_on,
        "card": row.card,
        "answered_at": row.answered_at,
        "answer": row.answer,
        "answered_by_name": row.answered_by_name,
        "public": row.public,
        "public_question": row.public_question,
        **extra,
    }


def _masked(name: str) -> str:
    """张伟 → 张*, 欧阳娜娜 → 欧***: lists show no full name."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def _sign_in(tenant: Tenant, request: Request[Any, Any, Any]) -> Redirect:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/t/{tenant.slug}/login?next={quote(here, safe='')}")


class ConsultPages(Controller):
    path = "/t/{slug:str}"
    include_in_schema = False

    # -- the citizen ---------------------------------------------------------------------------

    @get("/consult/new", name="consult_new", sync_to_thread=True)
    def new(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        item: str = "",
        case: str = "",
    ) -> Template | Redirect:
        if principal is None:
            return _sign_in(tenant, request)
        require_account(principal)
        values = {"item": item, "case": case, "subject": "", "text": ""}
        return self._form(request, tenant, db, principal, values, {})

    def _form(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        me: Principal,
        values: dict[str, str],
        errors: dict[str, str],
        *,
        status_code: int = 200,
    ) -> Template:
        complaint_case = None
        my_cases: list[Case] = []
        if values.get("case"):
            complaint_case = db.scalar(select(Case).where(Case.number == values["case"]))
            if complaint_case is None or complaint_case.applicant_id != me.id:
                raise NotFound("办件不存在")
        kind = "complaint" if complaint_case is not None else "consult"
        if complaint_case is not None and complaint_case.state is CaseState.draft:
            errors = {**errors, "case": "尚未提交的申请不能投诉，提交后如有意见再来投诉。"}
        chosen = None
        items = []
        if kind == "consult":
            items = consult.askable_items(db, tenant)
            chosen = next((i for i in items if i.code == values.get("item")), None)
        else:
            my_cases = [complaint_case] if complaint_case is not None else []
        departments = consult.department_names(db)
        days = consult.reply_days(tenant, kind)
        due = calendar_for(db, tenant).add_working_days(clock.today(), days)
        return render(
            request,
            db,
            tenant,
            "consult/new.html",
            kind=kind,
            kind_label=consult.KIND_LABELS[kind],
            values=values,
            errors=errors,
            items=items,
            chosen=chosen,
            complaint_case=complaint_case,
            my_cases=my_cases,
            departments=departments,
            reply_days=days,
            due_on=due,
            status_code=status_code,
        )

    @post("/consult/new", name="consult_create", sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        me = require_account(principal)
        values = {k: (data.get(k) or "").strip() for k in ("item", "case", "subject", "text")}
        try:
            if values["case"]:
                row = consult.complain(
                    db, tenant, me, values["case"], values["subject"], values["text"]
                )
            else:
                row = consult.ask(db, tenant, me, values["item"], values["subject"], values["text"])
            number = row.number
            service.commit(db)
        except InvalidInput as exc:
            db.rollback()
            errors = {exc.field or "text": exc.detail}
            return self._form(request, tenant, db, me, values, errors, status_code=422)
        return back(f"/t/{tenant.slug}/my/consultations/{number}", msg="已提交，请留意短信通知。")

    @get("/my/consultations", name="my_consultations", sync_to_thread=True)
    def mine(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template | Redirect:
        if principal is None:
            return _sign_in(tenant, request)
        me = require_account(principal)
        departments = consult.department_names(db)
        rows = [view(r, departments) for r in consult.list_for_citizen(db, me)]
        return render(request, db, tenant, "consult/mine.html", rows=rows)

    @get("/my/consultations/{number:str}", name="my_consultation", sync_to_thread=True)
    def mine_one(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
        msg: str = "",
    ) -> Template | Redirect:
        if principal is None:
            return _sign_in(tenant, request)
        row = consult.get_for_citizen(db, principal, number)
        return render(
            request,
            db,
            tenant,
            "consult/detail.html",
            q=view(row, consult.department_names(db)),
            msg=msg,
        )

    # -- the department's staff ----------------------------------------------------------------

    @get("/workbench/consultation-queue", name="consult_queue", sync_to_thread=True)
    def queue(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        """The workbench's list of open questions (an htmx fragment)."""
        me = require_staff(principal)
        return render(
            request, db, tenant, "consult/_queue.html", rows=self._rows(db, tenant, me), full=False
        )

    @get("/workbench/consultations", name="consult_list", sync_to_thread=True)
    def staff_list(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        show: str = "open",
    ) -> Template:
        me = require_staff(principal)
        answered = show == "answered"
        return render(
            request,
            db,
            tenant,
            "consult/staff_list.html",
            rows=self._rows(db, tenant, me, answered=answered),
            answered=answered,
            full=True,
        )

    def _rows(
        self, db: Session, tenant: Tenant, me: Principal, *, answered: bool = False
    ) -> list[dict[str, Any]]:
        departments = consult.department_names(db)
        calendar, today = calendar_for(db, tenant), clock.today()
        return [
            view(
                r,
                departments,
                colour="grey" if answered else card_colour(r.due_on, today, calendar),
                asker=_masked(r.asker_name),
            )
            for r in consult.list_for_staff(db, me, answered=answered)
        ]

    @get("/workbench/consultations/{number:str}", name="consult_staff", sync_to_thread=True)
    def staff_one(
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
        return self._staff_page(request, tenant, db, me, number, msg=msg, error=error)

    def _staff_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        me: Principal,
        number: str,
        *,
        msg: str = "",
        error: str = "",
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        row = consult.get_for_staff(db, me, number)
        calendar, today = calendar_for(db, tenant), clock.today()
        case_state = None
        if row.case_id is not None:
            case = db.scalar(select(Case).where(Case.id == row.case_id))
            case_state = case.state if case is not None else None
        return render(
            request,
            db,
            tenant,
            "consult/staff_detail.html",
            q=view(
                row,
                consult.department_names(db),
                colour=card_colour(row.due_on, today, calendar),
                asker=row.asker_name,
            ),
            may_answer=consult.may_answer(db, me, row) and row.state == "open",
            case_open=case_state is not None and case_state is not CaseState.draft,
            msg=msg,
            error=error,
            errors=errors or {},
            values=values or {},
            status_code=status_code,
        )

    @post(
        "/workbench/consultations/{number:str}/answer", name="consult_answer", sync_to_thread=True
    )
    def answer(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
        data: Form,
    ) -> Template | Redirect:
        me = require_staff(principal)
        values = {
            "answer": (data.get("answer") or "").strip(),
            "public": "on" if data.get("public") == "on" else "",
            "public_question": (data.get("public_question") or "").strip(),
        }
        try:
            consult.answer(
                db,
                tenant,
                me,
                number,
                values["answer"],
                public=bool(values["public"]),
                public_question=values["public_question"],
            )
            service.commit(db)
        except InvalidInput as exc:
            db.rollback()
            return self._staff_page(
                request,
                tenant,
                db,
                me,
                number,
                errors={exc.field or "answer": exc.detail},
                values=values,
                status_code=422,
            )
        except NotFound:
            raise
        except GovhallError as exc:
            db.rollback()
            if exc.status == 403:
                raise
            url = f"/t/{tenant.slug}/workbench/consultations/{number}"
            return back(url, error=exc.detail)
        url = f"/t/{tenant.slug}/workbench/consultations/{number}"
        return back(url, msg="已答复，已短信告知提问人。")

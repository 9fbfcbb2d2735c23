"""API: 在线咨询与投诉 — ask about an item or complain about one's own case, read the answers
(a citizen's own; the department's for its staff), answer as the department, and an item's
public answers (常见问题)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from litestar import Controller, get, post
from sqlalchemy.orm import Session

from core import consult
from core.cases import service
from core.catalog import get_item_by_code
from core.consult import Consultation
from core.errors import InvalidInput, NotFound
from core.identity import Principal
from core.tenancy import Tenant
from web.api.scoped import anyone, needs
from web.auth import require

__all__ = ["ConsultApi"]


class ConsultationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A question (``item``) or a complaint (``case``, one of the caller's own)."""

    subject: str
    text: str
    item: str | None = None
    case: str | None = None


class AnswerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    answer: str
    public: bool = False
    public_question: str = ""


class ConsultationOut(msgspec.Struct, kw_only=True):
    number: str
    kind: str  # consult | complaint
    kind_label: str
    state: str  # waiting | answered | overdue
    state_label: str
    item: str
    item_name: str
    case: str | None
    department: str
    subject: str
    text: str
    created_at: datetime
    due_on: date
    card: str | None
    answer: str | None
    answered_at: datetime | None
    public: bool


class FaqOut(msgspec.Struct, kw_only=True):
    question: str
    answer: str
    answered_on: date | None


def _out(row: Consultation) -> ConsultationOut:
    state = consult.state_of(row)
    return ConsultationOut(
        number=row.number,
        kind=row.kind,
        kind_label=consult.KIND_LABELS.get(row.kind, ""),
        state=state,
        state_label=consult.STATE_LABELS[state],
        item=row.item_code,
        item_name=row.item_name,
        case=row.case_number,
        department=row.department_code,
        subject=row.subject,
        text=row.text,
        created_at=row.created_at,
        due_on=row.due_on,
        card=row.card,
        answer=row.answer,
        answered_at=row.answered_at,
        public=row.public,
    )


def _get(db: Session, who: Principal, number: str) -> Consultation:
    if who.is_staff:
        return consult.get_for_staff(db, who, number)
    return consult.get_for_citizen(db, who, number)


class ConsultApi(Controller):
    path = "/api/v1/t/{slug:str}"
    tags = ["consultations"]

    @get(
        "/consultations",
        summary="My questions and complaints; for staff, their departments' (open or answered)",
        sync_to_thread=True,
        **needs("cases:read"),
    )
    def listing(
        self, db: Session, principal: Principal | None, answered: bool = False
    ) -> list[ConsultationOut]:
        who = require(principal)
        if who.is_staff:
            return [_out(r) for r in consult.list_for_staff(db, who, answered=answered)]
        return [_out(r) for r in consult.list_for_citizen(db, who)]

    @post(
        "/consultations",
        summary="Ask about an item (咨询) or complain about one of one's own cases (投诉)",
        sync_to_thread=True,
        status_code=201,
        **needs("cases:write"),
    )
    def create(
        self, db: Session, tenant: Tenant, principal: Principal | None, data: ConsultationIn
    ) -> ConsultationOut:
        who = require(principal)
        if data.case and data.item:
            raise InvalidInput("咨询事项和投诉办件只能选一个", field="case")
        if data.case:
            row = consult.complain(db, tenant, who, data.case, data.subject, data.text)
        else:
            row = consult.ask(db, tenant, who, data.item or "", data.subject, data.text)
        out = _out(row)
        service.commit(db)
        return out

    @get(
        "/consultations/{number:str}",
        summary="One question or complaint with its answer",
        sync_to_thread=True,
        **needs("cases:read"),
    )
    def one(self, db: Session, principal: Principal | None, number: str) -> ConsultationOut:
        return _out(_get(db, require(principal), number))

    @post(
        "/consultations/{number:str}/answer",
        summary="Answer as the department (a question's answer may be public: 常见问题)",
        sync_to_thread=True,
        status_code=200,
        **needs("cases:write"),
    )
    def answer(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
        data: AnswerIn,
    ) -> ConsultationOut:
        who = require(principal)
        if not who.is_staff:
            raise NotFound("咨询或投诉不存在", field="number")
        row = consult.answer(
            db,
            tenant,
            who,
            number,
            data.answer,
            public=data.public,
            public_question=data.public_question,
        )
        out = _out(row)
        service.commit(db)
        return out

    @get(
        "/items/{code:str}/faq",
        summary="An item's public answers (常见问题), newest first; never who asked",
        sync_to_thread=True,
        **anyone(),
    )
    def faq(self, db: Session, tenant: Tenant, code: str) -> list[FaqOut]:
        item = get_item_by_code(db, tenant, code)
        if not item.effective:
            raise NotFound(f"没有编码为 {code} 的事项")
        return [
            FaqOut(question=f.question, answer=f.answer, answered_on=f.answered_on)
            for f in consult.public_faq(db, tenant, item.code)
        ]

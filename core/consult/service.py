"""在线咨询与投诉: ask about an item, complain about one's own case, answer as the department,
list for the citizen and for the department, and the public answers of an item (常见问题).

Each question gets a reply limit in working days of the tenant's calendar (tenant setting
``consult_reply_days``: ``{"consult": 3, "complaint": 5}`` by default), counted like a case
step's: the day it is asked is not counted. The deadline sweep
(:mod:`core.supervision.questions`) raises its yellow and red cards.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.calendar import cached_calendar
from core.cases import clock
from core.cases.models import Case, CaseState
from core.catalog import Item, ItemStatus, get_item_by_code
from core.consult.models import Consultation
from core.db import watch
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.identity import Principal, Role
from core.identity.models import Account
from core.notify.outbox import enqueue_sms
from core.tenancy import OrgUnit, Tenant

#: an item's public answers are on its guide page, which a signed-out visitor may be given
#: from the memo (web/pages/catalog.py): a change to them forgets it
watch(Consultation)

__all__ = [
    "ANSWERING_ROLES",
    "DEFAULT_REPLY_DAYS",
    "KIND_LABELS",
    "STATE_LABELS",
    "FaqEntry",
    "answer",
    "ask",
    "askable_items",
    "complain",
    "department_names",
    "departments_of",
    "get_for_citizen",
    "get_for_staff",
    "list_for_citizen",
    "list_for_staff",
    "may_answer",
    "open_counts",
    "public_faq",
    "reply_days",
    "state_of",
]

KIND_LABELS = {"consult": "咨询", "complaint": "投诉"}
#: what a citizen reads: waiting, answered, or past its limit without an answer
STATE_LABELS = {"waiting": "待答复", "answered": "已答复", "overdue": "已逾期"}
DEFAULT_REPLY_DAYS = {"consult": 3, "complaint": 5}
#: the department's working staff answer; the tenant admin may answer anything
ANSWERING_ROLES = (Role.window_clerk, Role.reviewer, Role.approver, Role.issuer)

SUBJECT_MAX, TEXT_MAX, ANSWER_MAX, QUESTION_MAX = 60, 2000, 4000, 200


@dataclass(frozen=True)
class FaqEntry:
    """A public answer of an item: no asker, no number, no date of asking."""

    question: str
    answer: str
    answered_on: date | None


def reply_days(tenant: Tenant, kind: str) -> int:
    """Working days the department has to answer a ``kind`` (tenant setting, defaults 3/5)."""
    configured = tenant.settings.get("consult_reply_days") or {}
    try:
        return max(1, int(configured.get(kind, DEFAULT_REPLY_DAYS[kind])))
    except (AttributeError, TypeError, ValueError):
        return DEFAULT_REPLY_DAYS[kind]


def state_of(row: Consultation, today: date | None = None) -> str:
    """waiting | answered | overdue (no answer and the limit has passed)."""
    if row.state == "answered":
        return "answered"
    return "overdue" if row.due_on < (today or clock.today()) else "waiting"


def _clean(value: str, field: str, limit: int, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"请填写{what}", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{what}不能超过 {limit} 个字", field=field)
    return value


def _asker(session: Session, tenant: Tenant, principal: Principal) -> Account:
    if not principal.is_account:
        raise Forbidden("请使用群众或企业账户登录后咨询、投诉")
    account = session.get(Account, (tenant.province_id, principal.id))
    if account is None or not account.active:
        raise Forbidden("账户不可用")
    return account


def _number(session: Session, kind: str) -> str:
    prefix = "ZX" if kind == "consult" else "TS"
    for _ in range(10):
        number = f"{prefix}{clock.today():%Y%m%d}{secrets.randbelow(10**5):05d}"
        if session.scalar(select(Consultation.id).where(Consultation.number == number)) is None:
            return number
    raise Conflict("编号繁忙，请稍后再试")  # pragma: no cover - 100,000 a day


def _create(
    session: Session,
    tenant: Tenant,
    account: Account,
    kind: str,
    subject: str,
    text: str,
    **fields: Any,
) -> Consultation:
    subject = _clean(subject, "subject", SUBJECT_MAX, "标题")
    text = _clean(text, "text", TEXT_MAX, "内容")
    again = _repeated(session, account, kind, subject, text, fields.get("case_id"))
    if again is not None:
        return again
    today = clock.today()
    row = Consultation(
        tenant_id=tenant.id,
        number=_number(session, kind),
        kind=kind,
        state="open",
        account_id=account.id,
        asker_name=account.name,
        asker_phone=account.phone,
        subject=subject,
        text=text,
        created_at=clock.now(),
        due_on=cached_calendar(session, tenant).add_working_days(today, reply_days(tenant, kind)),
        **fields,
    )
    session.add(row)
    session.flush()
    return row


def _repeated(
    session: Session,
    account: Account,
    kind: str,
    subject: str,
    text: str,
    case_id: uuid.UUID | None,
) -> Consultation | None:
    """The same question sent again within ten minutes (a double click, a reload): the first
    one, not a second question for the department."""
    since = clock.now() - timedelta(minutes=10)
    recent = session.scalars(
        select(Consultation).where(
            Consultation.account_id == account.id,
            Consultation.kind == kind,
            Consultation.subject == subject,
            Consultation.created_at >= since,
        )
    )
    return next((r for r in recent if r.text == text and r.case_id == case_id), None)


def ask(
    session: Session, tenant: Tenant, principal: Principal, item_code: str, subject: str, text: str
) -> Consultation:
    """A question (咨询) about a published item, for its department. The caller commits."""
    account = _asker(session, tenant, principal)
    try:
        item = get_item_by_code(session, tenant, (item_code or "").strip())
    except NotFound:
        raise InvalidInput("请选择要咨询的事项", field="item") from None
    if item.status is not ItemStatus.active or not item.effective:
        raise InvalidInput("该事项已不再办理，请选择其他事项", field="item")
    return _create(
        session,
        tenant,
        account,
        "consult",
        subject,
        text,
        item_code=item.code,
        item_name=item.name,
        department_code=item.department_code,
    )


def complain(
    session: Session, tenant: Tenant, principal: Principal, number: str, subject: str, text: str
) -> Consultation:
    """A complaint (投诉) about one of the citizen's own submitted cases, for the case's
    department. Anyone else's case is the same 404 as one that does not exist."""
    account = _asker(session, tenant, principal)
    case = session.scalar(select(Case).where(Case.number == (number or "").strip()))
    if case is None or case.applicant_id != account.id:
        raise NotFound("办件不存在", field="case")
    if case.state is CaseState.draft:
        raise InvalidInput("尚未提交的申请不能投诉，提交后如有意见再来投诉。", field="case")
    return _create(
        session,
        tenant,
        account,
        "complaint",
        subject,
        text,
        item_code=case.item_code,
        item_name=case.item_name,
        case_id=case.id,
        case_number=case.number,
        department_code=case.department_code,
    )


def departments_of(session: Session, principal: Principal) -> set[str] | None:
    """The department codes whose questions ``principal`` answers (None: every one — the
    tenant admin). A role held in a unit under a department counts for the department."""
    if not principal.is_staff:
        return set()
    if principal.has_role(Role.tenant_admin):
        return None
    units = {u.id: u for u in session.scalars(select(OrgUnit))}
    codes: set[str] = set()
    for role, unit_id in principal.roles:
        if role not in ANSWERING_ROLES:
            continue
        if unit_id is None:  # a working role held tenant-wide: every department
            return None
        unit = units.get(unit_id)
        while unit is not None:
            if unit.kind.value == "department":
                codes.add(unit.code)
                break
            unit = units.get(unit.parent_id) if unit.parent_id else None
    return codes


def may_answer(session: Session, principal: Principal, row: Consultation) -> bool:
    codes = departments_of(session, principal)
    return codes is None or row.department_code in codes


def _can_see_as_staff(principal: Principal) -> bool:
    return principal.is_staff and any(
        principal.has_role(r) for r in (*ANSWERING_ROLES, Role.supervisor, Role.tenant_admin)
    )


def _by_number(session: Session, number: str) -> Consultation:
    row = session.scalar(select(Consultation).where(Consultation.number == (number or "").strip()))
    if row is None:
        raise NotFound("咨询或投诉不存在", field="number")
    return row


def get_for_citizen(session: Session, principal: Principal, number: str) -> Consultation:
    """The asker's own question; anyone else's is a 404."""
    row = _by_number(session, number)
    if not principal.is_account or row.account_id != principal.id:
        raise NotFound("咨询或投诉不存在", field="number")
    return row


def get_for_staff(session: Session, principal: Principal, number: str) -> Consultation:
    """A question for the staff who may answer it and the supervisors (404 for others)."""
    row = _by_number(session, number)
    if not _can_see_as_staff(principal):
        raise NotFound("咨询或投诉不存在", field="number")
    if not principal.has_role(Role.supervisor) and not may_answer(session, principal, row):
        raise NotFound("咨询或投诉不存在", field="number")
    return row


def list_for_citizen(
    session: Session, principal: Principal, limit: int = 100
) -> list[Consultation]:
    if not principal.is_account:
        return []
    return list(
        session.scalars(
            select(Consultation)
            .where(Consultation.account_id == principal.id)
            .order_by(Consultation.created_at.desc())
            .limit(limit)
        )
    )


def list_for_staff(
    session: Session, principal: Principal, *, answered: bool = False, limit: int = 200
) -> list[Consultation]:
    """The questions of the departments ``principal`` answers: open ones oldest deadline
    first, or (``answered``) the latest answered. Supervisors see every department's."""
    codes = None if principal.has_role(Role.supervisor) else departments_of(session, principal)
    if codes is not None and not codes:
        return []
    stmt = select(Consultation).where(Consultation.state == ("answered" if answered else "open"))
    if codes is not None:
        stmt = stmt.where(Consultation.department_code.in_(sorted(codes)))
    order = Consultation.answered_at.desc() if answered else Consultation.due_on
    return list(session.scalars(stmt.order_by(order, Consultation.created_at).limit(limit)))


def answer(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    number: str,
    text: str,
    *,
    public: bool = False,
    public_question: str = "",
) -> Consultation:
    """The department's answer; the asker hears of it by SMS (``consult_answered``). Only a
    question's answer may be public, and the public reads the question without its asker.
    The caller commits."""
    row = get_for_staff(session, principal, number)
    if not may_answer(session, principal, row):
        raise Forbidden("只有承办部门的工作人员可以答复")
    if row.state == "answered":
        raise Conflict("已经答复过了")
    text = _clean(text, "answer", ANSWER_MAX, "答复内容")
    if public and row.kind != "consult":
        raise InvalidInput("投诉的答复不公开", field="public")
    question = (public_question or "").strip() or row.subject
    if len(question) > QUESTION_MAX:
        raise InvalidInput(f"公开的问题不能超过 {QUESTION_MAX} 个字", field="public_question")
    row.state = "answered"
    row.answer = text
    row.answered_at = clock.now()
    row.answered_by = principal.id
    row.answered_by_name = principal.name
    row.public = bool(public)
    row.public_question = question if public else None
    enqueue_sms(
        session,
        tenant,
        row.asker_phone,
        "consult_answered",
        {"kind": KIND_LABELS[row.kind], "number": row.number},
        case_id=row.case_id,
    )
    session.flush()
    return row


def public_faq(session: Session, tenant: Tenant, item_code: str, limit: int = 20) -> list[FaqEntry]:
    """The public answers of an item (常见问题), newest first."""
    rows = session.scalars(
        select(Consultation)
        .where(
            Consultation.tenant_id == tenant.id,
            Consultation.item_code == item_code,
            Consultation.public.is_(True),
            Consultation.kind == "consult",
            Consultation.state == "answered",
        )
        .order_by(Consultation.answered_at.desc())
        .limit(limit)
    )
    return [
        FaqEntry(
            question=r.public_question or r.subject,
            answer=r.answer or "",
            answered_on=r.answered_at.astimezone(clock.TZ).date() if r.answered_at else None,
        )
        for r in rows
    ]


def open_counts(session: Session, tenant: Tenant, today: date | None = None) -> dict[str, int]:
    """The tenant's unanswered questions and complaints: all, overdue, carded."""
    today = today or clock.today()
    rows = session.execute(
        select(
            func.count(),
            func.count().filter(Consultation.due_on < today),
            func.count().filter(Consultation.card == "yellow"),
            func.count().filter(Consultation.card == "red"),
        ).where(Consultation.tenant_id == tenant.id, Consultation.state == "open")
    ).one()
    return {"open": rows[0], "overdue": rows[1], "yellow": rows[2], "red": rows[3]}


def askable_items(session: Session, tenant: Tenant, limit: int = 500) -> list[Item]:
    """The published items one may ask about, by department then name (the form's list)."""
    return list(
        session.scalars(
            select(Item)
            .where(
                Item.tenant_id == tenant.id,
                Item.status == ItemStatus.active,
                Item.live_version_id.is_not(None),
            )
            .order_by(Item.department_code, Item.name)
            .limit(limit)
        )
    )


def department_names(session: Session) -> dict[str, str]:
    """Department code → name, for pages (the questions carry the code)."""
    return {u.code: u.name for u in session.scalars(select(OrgUnit))}

"""Satisfaction ratings (好差评): on the portal, at the counter right after a decision, and by
SMS reply to the completion message (as Guangxi does: a number from 0 to 100). A score below
60 — and any complaint — opens a follow-up for a supervisor."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import clock
from core.cases.access import get_case
from core.cases.models import Case, CaseState
from core.cases.trail import Actor, append_event
from core.errors import Conflict, Forbidden, InvalidInput
from core.identity import Principal, Role
from core.identity.service import find_account_by_phone, normalize_phone
from core.notify.outbox import enqueue_sms
from core.supervision.models import FollowUp, InboundSms
from core.supervision.staff import holders
from core.tenancy import Tenant

__all__ = [
    "LOW_SCORE",
    "open_follow_up",
    "parse_score",
    "rate_case",
    "receive_sms",
    "record_rating",
]

LOW_SCORE = 60
#: a score first, 分 or not, then nothing or words after a separator: "95", "100 谢谢",
#: "95分，谢谢" — but never more digits after it ("9 5", "95.5" are not scores)
_SCORE = re.compile(r"^(\d{1,3})\s*分?(?:$|[\s,，。.!！、:：;；~～]+(?!\d)(.*)$)", re.S)
FOLLOW_UP_KINDS = {"low_rating": "差评", "complaint": "投诉"}


def parse_score(text: str) -> int | None:
    """ "95", "９５", " 95 ", "100 谢谢", "95分，谢谢" → the score; "好", "101", "-5", "9 5",
    "" → None."""
    return read_reply(text)[0]


def read_reply(text: str) -> tuple[int | None, str]:
    """A rating reply as (score, the words after it): ("95分，谢谢") → (95, "谢谢")."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    found = _SCORE.match(value)
    if not found:
        return None, ""
    score = int(found.group(1))
    words = (found.group(2) or "").strip().strip("。.!！")
    return (score, words) if 0 <= score <= 100 else (None, "")


def open_follow_up(
    session: Session, tenant: Tenant, case: Case, kind: str, text: str, score: int | None = None
) -> FollowUp:
    """A follow-up for the supervisors, who hear of it by SMS (the caller commits)."""
    row = FollowUp(
        tenant_id=tenant.id, case_id=case.id, kind=kind, text=text.strip()[:2000], score=score
    )
    session.add(row)
    params = {"number": case.number, "item": case.item_name, "kind": FOLLOW_UP_KINDS[kind]}
    for h in holders(session):
        if h.role == Role.supervisor.value and h.phone:
            enqueue_sms(session, tenant, h.phone, "follow_up", params, case.id)
    return row


def record_rating(
    session: Session,
    tenant: Tenant,
    case: Case,
    score: int,
    comment: str,
    channel: str,
    actor: Actor,
) -> None:
    """Store the case's one rating and put it on the trail (the caller has locked the case)."""
    if case.state not in (CaseState.completed, CaseState.delivered):
        raise Conflict("办结后才能评价", field="state")
    if case.rating is not None:
        raise Conflict("已评价过", field="score")
    if not 0 <= score <= 100:
        raise InvalidInput("评分应在 0 到 100 之间", field="score")
    case.rating, case.rating_comment = score, comment.strip()[:500] or None
    case.rating_channel, case.rated_at = channel, clock.now()
    append_event(
        session,
        case,
        actor,
        "rate",
        from_state=case.state.value,
        data={"score": score, "channel": channel},
    )
    if score < LOW_SCORE:
        open_follow_up(session, tenant, case, "low_rating", comment, score)


def rate_case(
    session: Session, tenant: Tenant, principal: Principal, number: str, score: int, comment: str
) -> Case:
    """The applicant rates their finished case on the web (the caller commits)."""
    case = get_case(session, number, principal, lock=True)
    if not principal.is_account or principal.id != case.applicant_id:
        raise Forbidden("只有申请人可以评价")
    record_rating(session, tenant, case, score, comment, "web", Actor.of(principal))
    return case


def _case_for_reply(session: Session, tenant: Tenant, phone: str) -> Case | None:
    """The applicant's most recently finished case: the one whose rating request is the
    latest SMS a reply can answer (replies carry no reference to what they answer)."""
    try:
        phone = normalize_phone(phone)  # gateways send +86…, 86… or the bare number
    except InvalidInput:
        return None
    account = find_account_by_phone(session, tenant.province_id, phone)
    if account is None:
        return None
    return session.scalars(
        select(Case)
        .where(
            Case.applicant_id == account.id,
            Case.state.in_((CaseState.completed, CaseState.delivered)),
        )
        .order_by(Case.completed_at.desc())
        .limit(1)
        .with_for_update()
    ).first()


def receive_sms(
    session: Session, tenant: Tenant, vendor: str, vendor_ref: str, phone: str, text: str
) -> dict[str, Any]:
    """Store an inbound SMS and, when it is a score for a case awaiting one, rate that case.

    Never raises for what the citizen wrote: anything else is stored with the reason and the
    vendor gets its 200. A message seen before (same vendor reference) changes nothing."""
    ref = (vendor_ref or "")[:80]
    seen = session.scalars(
        select(InboundSms).where(InboundSms.vendor == vendor, InboundSms.vendor_ref == ref)
    ).first()
    if ref and seen is not None:
        return {"outcome": seen.outcome, "reason": "重复的上行短信", "duplicate": True}
    # gateways send +86…, 86… or the bare number; one that is no mainland mobile is kept as
    # it came (and rates nothing)
    with contextlib.suppress(InvalidInput):
        phone = normalize_phone(phone)
    row = InboundSms(
        tenant_id=tenant.id,
        vendor=vendor[:40],
        vendor_ref=ref or f"noref-{clock.now().timestamp()}",
        phone=phone,
        text=(text or "")[:500],
        outcome="ignored",
    )
    session.add(row)
    score, words = read_reply(text)
    case = _case_for_reply(session, tenant, phone) if score is not None else None
    if score is None:
        row.reason = "不是 0 到 100 之间的数字"
    elif case is None:
        row.reason = "没有待评价的办件"
    elif case.rating is not None:
        row.case_id, row.reason = case.id, f"办件 {case.number} 已评价"
    else:
        row.case_id = case.id
        record_rating(session, tenant, case, score, words, "sms", Actor("citizen", "", "短信评价"))
        row.outcome, row.reason = "rated", f"办件 {case.number} 评分 {score}"
        if tenant.settings.get("sms_rating_thanks", True):  # a county may turn it off
            low = score < LOW_SCORE
            params = {"item": case.item_name, "number": case.number, "score": score}
            enqueue_sms(
                session,
                tenant,
                phone,
                "rating_thanks_low" if low else "rating_thanks",
                params,
                case.id,
            )
    session.flush()
    return {"outcome": row.outcome, "reason": row.reason, "duplicate": False}

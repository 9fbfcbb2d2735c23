"""What a citizen's own space (我的) shows of their cases: the list with its filters (a plain
group of states, the item's name, the year), each case's state and the next thing to do in
plain words, the ratings given and awaited, and one e-license of the holder's library."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.cases.action_types import STATE_LABELS
from core.cases.licenses import verify_license
from core.cases.models import Case, CaseState, FeeStatus, License
from core.db import platform_scope
from core.errors import NotFound
from core.identity import Principal
from core.tenancy import Tenant

__all__ = [
    "FILTERS",
    "RATING_CHOICES",
    "CaseRow",
    "LicenseView",
    "MyCases",
    "license_view",
    "my_cases",
    "my_ratings",
    "next_step",
    "rating_label",
    "state_tone",
    "tenant_slugs",
]

#: the filter tabs of 我的办件: key → (label, states)
FILTERS: dict[str, tuple[str, tuple[CaseState, ...]]] = {
    "all": ("全部", ()),
    "draft": ("草稿", (CaseState.draft,)),
    "open": ("办理中", (CaseState.submitted, CaseState.in_progress, CaseState.suspended)),
    "correcting": ("需补正", (CaseState.correcting,)),
    "done": ("已办结", (CaseState.completed, CaseState.delivered)),
    "closed": ("未受理或已撤回", (CaseState.refused, CaseState.withdrawn)),
}

#: the satisfaction scale offered on the portal (the score stored is 0–100, as by SMS)
RATING_CHOICES: tuple[tuple[int, str], ...] = (
    (100, "非常满意"),
    (80, "满意"),
    (60, "基本满意"),
    (30, "不满意"),
    (0, "非常不满意"),
)

_TONES = {
    CaseState.draft: "secondary",
    CaseState.submitted: "info",
    CaseState.correcting: "warning",
    CaseState.in_progress: "primary",
    CaseState.suspended: "info",
    CaseState.refused: "danger",
    CaseState.completed: "success",
    CaseState.delivered: "success",
    CaseState.withdrawn: "secondary",
}


def state_tone(state: CaseState) -> str:
    return _TONES[state]


def rating_label(score: int) -> str:
    """The words of a score, whichever way it was given (an SMS reply may say 95)."""
    for floor, label in ((90, "非常满意"), (70, "满意"), (60, "基本满意"), (30, "不满意")):
        if score >= floor:
            return label
    return "非常不满意"


def next_step(case: Case) -> tuple[str, bool]:
    """What the applicant does next, in plain words, and whether it is theirs to do (True)
    or the hall's (False: nothing to do but wait)."""
    state = case.state
    if state is CaseState.draft:
        if case.parent_id is not None:
            return "在联办申请中一并填写、提交", True
        return "填写申请、上传材料，核对后提交", True
    if state is CaseState.submitted:
        return "等待窗口受理，无需操作", False
    if state is CaseState.correcting:
        return "按补正告知补齐材料，再次提交", True
    if state is CaseState.in_progress:
        if case.fee_status is FeeStatus.unpaid:
            return "缴纳费用", True
        return "正在审核审批，请耐心等待", False
    if state is CaseState.suspended:
        return "特殊程序中（如听证、检测），计时暂停", False
    if state is CaseState.refused:
        return "查看不予受理告知书，可按告知重新申请", True
    if state in (CaseState.completed, CaseState.delivered):
        if case.rating is None and case.agent_id is None:  # the applicant rates, not the filer
            return "为本次服务评价", True
        if state is CaseState.completed and case.decision != "denied":
            if case.delivery_method == "pickup":
                return "到窗口领取办理结果", True
            return "等待结果送达", False
        return "已办结，无需操作", False
    return "已撤回，无需操作", False


@dataclass(frozen=True)
class CaseRow:
    number: str
    item_code: str
    item_name: str
    state: str
    state_label: str
    tone: str
    decision: str | None
    created_at: datetime
    submitted_at: datetime | None
    due_on: Any
    next_step: str
    action_needed: bool


@dataclass(frozen=True)
class MyCases:
    rows: list[CaseRow]
    total: int
    page: int
    pages: int
    counts: dict[str, int]
    years: list[int]


def _row(case: Case) -> CaseRow:
    step, mine = next_step(case)
    label = STATE_LABELS[case.state.value]
    if case.state is CaseState.completed and case.decision == "denied":
        label = "已办结（不予许可）"
    return CaseRow(
        number=case.number,
        item_code=case.item_code,
        item_name=case.item_name,
        state=case.state.value,
        state_label=label,
        tone="danger" if case.decision == "denied" else state_tone(case.state),
        decision=case.decision,
        created_at=case.created_at,
        submitted_at=case.submitted_at,
        due_on=case.due_on,
        next_step=step,
        action_needed=mine,
    )


def _mine(principal: Principal) -> Any:
    if principal.is_account:
        return Case.applicant_id == principal.id
    return Case.agent_id == principal.id  # an agent or clerk: what they filed


def my_cases(
    session: Session,
    principal: Principal,
    *,
    show: str = "all",
    q: str = "",
    year: int | None = None,
    page: int = 1,
    per_page: int = 10,
) -> MyCases:
    """The person's cases at the session's tenant, newest first, filtered and paged."""
    base = select(Case).where(_mine(principal))
    text = (q or "").strip()[:60]
    if text:
        base = base.where(Case.item_name.contains(text, autoescape=True))
    if year:
        start = datetime(year, 1, 1, tzinfo=UTC)
        base = base.where(Case.created_at >= start, Case.created_at < start.replace(year=year + 1))
    counts = {}
    for key, (_label, states) in FILTERS.items():
        stmt = base.where(Case.state.in_(states)) if states else base
        counts[key] = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    states = FILTERS.get(show, FILTERS["all"])[1]
    stmt = base.where(Case.state.in_(states)) if states else base
    total = counts.get(show, counts["all"])
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    cases = session.scalars(
        stmt.order_by(Case.created_at.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    first, last = session.execute(
        select(func.min(Case.created_at), func.max(Case.created_at)).where(_mine(principal))
    ).one()
    years = list(range(last.year, first.year - 1, -1)) if first and last else []
    return MyCases(
        rows=[_row(c) for c in cases],
        total=total,
        page=page,
        pages=pages,
        counts=counts,
        years=years,
    )


@dataclass(frozen=True)
class RatingRow:
    number: str
    item_name: str
    finished_at: datetime | None
    score: int | None
    label: str
    comment: str
    channel: str
    rated_at: datetime | None


_CHANNELS = {"web": "网上评价", "sms": "短信评价", "counter": "窗口评价器"}


def my_ratings(session: Session, principal: Principal) -> tuple[list[RatingRow], list[RatingRow]]:
    """(finished cases awaiting a rating, ratings given), the latest first."""
    rows = session.scalars(
        select(Case)
        .where(
            Case.applicant_id == principal.id,
            Case.state.in_((CaseState.completed, CaseState.delivered)),
        )
        .order_by(Case.completed_at.desc())
        .limit(200)
    )
    waiting: list[RatingRow] = []
    given: list[RatingRow] = []
    for case in rows:
        row = RatingRow(
            number=case.number,
            item_name=case.item_name,
            finished_at=case.completed_at,
            score=case.rating,
            label=rating_label(case.rating) if case.rating is not None else "",
            comment=case.rating_comment or "",
            channel=_CHANNELS.get(case.rating_channel or "", ""),
            rated_at=case.rated_at,
        )
        (waiting if case.rating is None else given).append(row)
    return waiting, given


@dataclass(frozen=True)
class LicenseView:
    """One e-license as its holder reads it: the signed particulars and whether the
    signature holds."""

    row: License
    tenant_slug: str
    issuer: str
    fields: list[tuple[str, str]]
    valid: bool
    message: str


def tenant_slugs(session: Session, tenant: Tenant) -> dict[uuid.UUID, str]:
    """Each tenant of the province by id: an e-license is verified at its issuer's portal."""
    with platform_scope(session) as s:
        rows = s.execute(
            select(Tenant.id, Tenant.slug).where(Tenant.province_id == tenant.province_id)
        )
        return {row[0]: row[1] for row in rows}


def license_view(
    session: Session, tenant: Tenant, holder_id: uuid.UUID | None, code: str
) -> LicenseView:
    """The holder's e-license ``code`` from any county of the province (404 for anyone
    else's, and for a code of another province)."""
    with platform_scope(session) as s:
        tenants = {
            t.id: t
            for t in s.scalars(select(Tenant).where(Tenant.province_id == tenant.province_id))
        }
        row = s.scalars(
            select(License).where(
                License.code == code.strip().upper(),
                License.holder_id == holder_id,
                License.tenant_id.in_(list(tenants)),
            )
        ).first()
        if row is None or holder_id is None:
            raise NotFound("证照不存在", field="code")
        valid, message = verify_license(s, row)
    payload = msgspec.json.decode(row.payload)
    issuer = tenants[row.tenant_id]
    fields = [
        ("证照名称", row.title),
        ("证照编号", row.number),
        ("持证人", row.holder_name),
        *((str(k), str(v)) for k, v in (payload.get("particulars") or {}).items()),
        ("发证机关", issuer.display_name),
        ("发证日期", f"{row.issued_on:%Y年%m月%d日}"),
        ("有效期至", f"{row.valid_until:%Y年%m月%d日}" if row.valid_until else "长期"),
        ("办件编号", str(payload.get("case") or "")),
    ]
    return LicenseView(
        row=row,
        tenant_slug=issuer.slug,
        issuer=issuer.display_name,
        fields=fields,
        valid=valid,
        message=message,
    )

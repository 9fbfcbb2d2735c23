"""Reading cases: an applicant's own, a staff member's queue, the public progress query by
number and query code, and public verification of notices and e-licenses by code."""

from __future__ import annotations

import hmac
import json
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from core.cases import engine
from core.cases.access import CASE_ROLES, visible_to
from core.cases.licenses import verify_license
from core.cases.models import Case, CaseState, CaseTask, License, Notice, TaskState
from core.cases.numbers import normalize_number
from core.cases.seals import issuer_of
from core.errors import Forbidden, InvalidInput, NotFound
from core.identity import Principal, throttle
from core.tenancy import Tenant

__all__ = ["Page", "find_by_code", "list_cases", "progress", "throttled_progress", "work_queue"]


@dataclass
class Page:
    total: int
    cases: list[Case]


def list_cases(
    session: Session,
    principal: Principal,
    *,
    state: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Page:
    """Accounts see their own cases; agents the ones they filed; case staff every one."""
    stmt = select(Case)
    if principal.is_account:
        stmt = stmt.where(Case.applicant_id == principal.id)
    elif principal.is_staff and any(principal.has_role(r) for r in CASE_ROLES):
        # the submitted cases they may see (core.cases.access), and what they filed themselves
        submitted = Case.state != CaseState.draft
        reach = visible_to(session, principal)
        if reach is not None:
            submitted = and_(submitted, reach)
        stmt = stmt.where(submitted | (Case.agent_id == principal.id))
    elif principal.is_staff:
        stmt = stmt.where(Case.agent_id == principal.id)
    else:
        raise Forbidden("没有查看办件的权限")
    if state:
        try:
            stmt = stmt.where(Case.state == CaseState(state))
        except ValueError:
            raise InvalidInput(f"未知的状态 {state}", field="state") from None
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Case.created_at.desc()).limit(limit).offset(offset))
    return Page(total=total, cases=list(rows))


def work_queue(
    session: Session, principal: Principal, limit: int = 100
) -> list[tuple[CaseTask, Case]]:
    """Open tasks this staff member may work, earliest deadline first (unclaimed or theirs)."""
    roles = {r.value for r, _ in principal.roles}
    stmt = (
        select(CaseTask, Case)
        .join(Case, (Case.tenant_id == CaseTask.tenant_id) & (Case.id == CaseTask.case_id))
        .where(
            CaseTask.state == TaskState.open,
            CaseTask.role.in_(roles),
            Case.state.in_((CaseState.submitted, CaseState.in_progress, CaseState.suspended)),
            or_(CaseTask.claimed_by.is_(None), CaseTask.claimed_by == principal.id),
        )
        .order_by(CaseTask.due_on.is_(None), CaseTask.due_on, CaseTask.started_at)
        .limit(limit * 2)
    )
    out = [(t, c) for t, c in session.execute(stmt) if engine.may_work(session, principal, t)]
    return out[:limit]


def progress(session: Session, number: str, code: str) -> Case:
    """The public query: the number (as typed: spaces, no hyphens, full-width digits) and its
    query code, compared in constant time."""
    number = normalize_number(number)
    case = session.scalars(select(Case).where(Case.number == number)).first()
    if (
        case is None
        or case.state is CaseState.draft
        # as bytes: compare_digest refuses str with anything but ASCII (a 500 for a typed 中)
        or not hmac.compare_digest(
            case.query_code.encode(), unicodedata.normalize("NFKC", code).strip().encode()
        )
    ):
        raise NotFound("办件编号或查询码不正确", field="code")
    return case


#: wrong guesses before one case number is locked for one address, and before one address is
#: locked for every number: many citizens may share an address behind a carrier's NAT or a
#: village station, so it gets more
PROGRESS_CASE_LIMIT = 5
PROGRESS_ADDRESS_LIMIT = 20


def throttled_progress(
    session: Session, tenant_id: uuid.UUID, number: str, code: str, address: str
) -> Case:
    """:func:`progress` behind a lock per tenant and case number and per tenant and address;
    a wrong guess counts against both (the caller commits, so the count survives the 404)."""
    by_case = f"progress:{tenant_id}:n:{normalize_number(number).upper()[:40]}"
    by_address = f"progress:{tenant_id}:a:{address[:48]}"
    # the case number is locked for the guessing address (its owner, elsewhere, still looks
    # it up), and for everyone only after login_account_max_failures from all addresses
    throttle.check_attempt(session, address, by_case)
    throttle.check_not_locked(session, by_address)
    try:
        return progress(session, number, code)
    except NotFound:
        throttle.record_failed_attempt(session, address, by_case, limit=PROGRESS_CASE_LIMIT)
        throttle.record_failure(session, by_address, limit=PROGRESS_ADDRESS_LIMIT)
        raise


def find_by_code(session: Session, code: str) -> dict[str, Any]:
    """What a verification code proves: a notice (its PDF's hash) or a signed e-license."""
    code = code.strip().upper()
    notice = session.scalars(select(Notice).where(Notice.code == code)).first()
    if notice is not None:
        case = session.get(Case, (notice.tenant_id, notice.case_id))
        return {
            "kind": "notice",
            "notice": notice,
            "case": case,
            "valid": True,
            "message": "文书真实有效",
            "department": notice.body.get("department") or _department(session, case),
        }
    lic = session.scalars(select(License).where(License.code == code)).first()
    if lic is not None:
        case = session.get(Case, (lic.tenant_id, lic.case_id))
        valid, message = verify_license(session, lic)
        signed = json.loads(lic.payload)
        return {
            "kind": "license",
            "license": lic,
            "case": case,
            "valid": valid,
            "message": message,
            "department": signed.get("department") or _department(session, case),
        }
    raise NotFound("验证码不存在", field="code")


def _department(session: Session, case: Case | None) -> str:
    """The issuing department of a document recorded before documents named it."""
    tenant = session.get(Tenant, case.tenant_id) if case is not None else None
    if case is None or tenant is None:
        return ""
    return issuer_of(session, tenant, case.department_code).name

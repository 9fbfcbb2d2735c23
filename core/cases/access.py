"""Who may see a case: the applicant, the agent or clerk who filed it, and — once it is
submitted — the tenant's staff who work or watch cases. Anyone else gets the same 404 as for
a case that does not exist."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Case, CaseState
from core.db import tx_cache
from core.errors import NotFound
from core.identity import Principal, Role

__all__ = ["CASE_ROLES", "can_see", "get_case", "is_filer"]

#: staff roles that see every case of their tenant
CASE_ROLES = (
    Role.window_clerk,
    Role.reviewer,
    Role.approver,
    Role.issuer,
    Role.supervisor,
    Role.tenant_admin,
)


def is_filer(principal: Principal, case: Case) -> bool:
    """The applicant, or the agent/clerk who applied on their behalf."""
    if principal.is_account:
        return principal.id == case.applicant_id
    return principal.is_staff and case.agent_id is not None and principal.id == case.agent_id


def can_see(principal: Principal, case: Case) -> bool:
    """A draft is the applicant's own until submitted: staff see it only if they filed it."""
    if is_filer(principal, case):
        return True
    if case.state is CaseState.draft:
        return False
    return principal.is_staff and any(principal.has_role(r) for r in CASE_ROLES)


def get_case(session: Session, number: str, principal: Principal, *, lock: bool = False) -> Case:
    stmt = select(Case).where(Case.number == number)
    if lock:
        # Every change locks the case row first: concurrent actions queue on one row (no
        # deadlock between their other writes) and the later one sees the fresh state.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    case = session.scalars(stmt).first()
    if case is None or not can_see(principal, case):
        raise NotFound("办件不存在", field="number")
    if lock:  # the rest of the transaction may trust what it reads of the case (engine.py)
        tx_cache(session)[("locked", case.id)] = True
    return case

"""Who may see a case: the applicant, the agent or clerk who filed it, and — once it is
submitted — the tenant's staff who work or watch cases. Anyone else gets the same 404 as for
a case that does not exist."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, and_, bindparam, exists, select
from sqlalchemy.orm import Session

from core.cases.models import Case, CaseState, CaseSuspension, CaseTask
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


def get_case(
    session: Session,
    number: str,
    principal: Principal,
    *,
    lock: bool = False,
    with_tasks: bool = False,
) -> Case:
    """The case ``number`` if ``principal`` may see it (404 otherwise). ``lock``: for a
    change; ``with_tasks`` (a change that works the case's steps): its steps, and whether it
    was ever suspended, come in the same statement and are kept for the transaction."""
    if lock and with_tasks:
        case = _locked_with_tasks(session, number)
    else:
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


@cache
def _with_tasks_statement() -> Select[Case, CaseTask, bool]:
    """Built once: the statement is the same for every case but its number."""
    ever = (
        exists()
        .where(CaseSuspension.tenant_id == Case.tenant_id, CaseSuspension.case_id == Case.id)
        .correlate(Case)
        .label("suspended")
    )
    return (
        select(Case, CaseTask, ever)
        .outerjoin(
            CaseTask, and_(CaseTask.tenant_id == Case.tenant_id, CaseTask.case_id == Case.id)
        )
        .where(Case.number == bindparam("number"))
        .order_by(CaseTask.started_at, CaseTask.id)
        .with_for_update(of=Case)
        .execution_options(populate_existing=True)
    )


def _locked_with_tasks(session: Session, number: str) -> Case | None:
    """The case locked (``FOR UPDATE OF cases``: its steps are not, the case's lock guards
    them), read fresh with its steps in the order opened and whether it was ever suspended:
    one statement, where reading the steps after the case took a second (see
    ``core.cases.engine.tasks_of``, which then has them)."""
    rows = session.execute(_with_tasks_statement(), {"number": number}).all()
    if not rows:
        return None
    case: Case = rows[0][0]
    tx = tx_cache(session)
    if ("tasks", case.id) not in tx:  # steps opened earlier in the transaction are kept
        tx[("tasks", case.id)] = [row[1] for row in rows if row[1] is not None]
        tx[("suspended", case.id)] = bool(rows[0][2])
    return case

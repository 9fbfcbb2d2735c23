"""Who may see a case: the applicant, the agent or clerk who filed it, and — once it is
submitted — the staff who need to: the county's administrators and supervisors, anyone
holding a working role tenant-wide, and otherwise only staff of the case's department, of the
unit it came in through (a township centre, a village station), or of a unit that works or
worked one of its steps (the service centre's windows accept every department's cases).
Anyone else gets the same 404 as for a case that does not exist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from core.cases.models import Case, CaseMaterial, CaseState, CaseSuspension, CaseTask
from core.db import tx_cache
from core.errors import NotFound
from core.identity import Principal, Role

__all__ = ["CASE_ROLES", "Reach", "can_see", "get_case", "is_filer", "reach_of", "visible_to"]

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


#: staff roles that see every case of their tenant, wherever they are held
SEEING_ALL = (Role.supervisor, Role.tenant_admin)
#: staff roles that work cases: they see the cases of their units and departments
WORKING = (Role.window_clerk, Role.reviewer, Role.approver, Role.issuer)


@dataclass(frozen=True)
class Reach:
    """Which submitted cases a member of staff may see (``everything``, or by unit)."""

    everything: bool
    #: units where they hold a working role, and the units those sit in (a window's centre)
    units: frozenset[uuid.UUID] = frozenset()
    #: the departments those units belong to (a role in a section counts for its department)
    departments: frozenset[str] = frozenset()
    #: working roles held, for steps routed to no unit
    roles: frozenset[str] = frozenset()


_NOTHING = Reach(everything=False)


def reach_of(session: Session, principal: Principal) -> Reach:
    if not principal.is_staff:
        return _NOTHING
    if any(principal.has_role(r) for r in SEEING_ALL):
        return Reach(everything=True)
    held = [(role, unit) for role, unit in principal.roles if role in WORKING]
    if any(unit is None for _, unit in held):
        return Reach(everything=True)
    if not held:
        return _NOTHING
    from core.cases.engine import org_units  # the engine routes steps by the same units

    units = org_units(session)
    mine: set[uuid.UUID] = set()
    departments: set[str] = set()
    for _, unit_id in held:
        mine.add(unit_id)  # type: ignore[arg-type]  # None was handled above
        unit = units.get(unit_id)  # type: ignore[arg-type]
        if unit is not None and unit.parent_id is not None:
            mine.add(unit.parent_id)
        while unit is not None:
            if unit.kind.value == "department":
                departments.add(unit.code)
                break
            unit = units.get(unit.parent_id) if unit.parent_id else None
    return Reach(
        everything=False,
        units=frozenset(mine),
        departments=frozenset(departments),
        roles=frozenset(role.value for role, _ in held),
    )


def visible_to(session: Session, principal: Principal) -> ColumnElement[bool] | None:
    """The submitted cases ``principal`` (staff) may see, as a condition on ``Case`` (None:
    every one); their own filings are the caller's to add."""
    reach = reach_of(session, principal)
    if reach.everything:
        return None
    if not reach.units:
        return false()
    worked = (
        exists()
        .where(
            CaseTask.tenant_id == Case.tenant_id,
            CaseTask.case_id == Case.id,
            or_(
                CaseTask.org_unit_id.in_(reach.units),
                and_(CaseTask.org_unit_id.is_(None), CaseTask.role.in_(reach.roles)),
            ),
        )
        .correlate(Case)
    )
    return or_(
        Case.department_code.in_(reach.departments),
        Case.origin_unit_id.in_(reach.units),
        worked,
    )


def can_see(session: Session, principal: Principal, case: Case) -> bool:
    """A draft is the applicant's own until submitted: staff see it only if they filed it;
    a submitted case, staff see as :func:`reach_of` says."""
    if is_filer(principal, case):
        return True
    if case.state is CaseState.draft or not principal.is_staff:
        return False
    reach = reach_of(session, principal)
    if reach.everything:
        return True
    if case.department_code in reach.departments or case.origin_unit_id in reach.units:
        return True
    condition = visible_to(session, principal)
    assert condition is not None
    found = session.scalar(select(exists().where(Case.id == case.id, condition)))
    return bool(found)


def get_case(
    session: Session,
    number: str,
    principal: Principal,
    *,
    lock: bool = False,
    with_tasks: bool = False,
    with_materials: bool = False,
) -> Case:
    """The case ``number`` if ``principal`` may see it (404 otherwise). ``lock``: for a
    change; ``with_tasks`` (a change that works the case's steps): its steps, and whether it
    was ever suspended, come in the same statement and are kept for the transaction;
    ``with_materials`` (a submission): which materials it holds, likewise (see
    :func:`current_material_indexes`)."""
    if lock and with_tasks:
        case = _locked_with_tasks(session, number)
    elif lock and with_materials:
        case = _locked_with_materials(session, number)
    else:
        stmt = select(Case).where(Case.number == number)
        if lock:
            # Every change locks the case row first: concurrent actions queue on one row (no
            # deadlock between their other writes) and the later one sees the fresh state.
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        case = session.scalars(stmt).first()
    if case is None or not can_see(session, principal, case):
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


@cache
def _with_materials_statement() -> Select[Case, str | None]:
    """Built once: the case locked, with the indexes of its current materials joined in one
    string (``0,1``; portable: ``string_agg`` on PostgreSQL, ``group_concat`` on SQLite)."""
    held = (
        select(func.aggregate_strings(cast(CaseMaterial.spec_index, String), ","))
        .where(
            CaseMaterial.tenant_id == Case.tenant_id,
            CaseMaterial.case_id == Case.id,
            CaseMaterial.status == "current",
        )
        .correlate(Case)
        .scalar_subquery()
        .label("materials")
    )
    return (
        select(Case, held)
        .where(Case.number == bindparam("number"))
        .with_for_update(of=Case)
        .execution_options(populate_existing=True)
    )


def _locked_with_materials(session: Session, number: str) -> Case | None:
    """The case locked and read fresh, with which materials it holds: a submission checks
    them, and reading them after the case took a statement (a round trip) of its own."""
    row = session.execute(_with_materials_statement(), {"number": number}).first()
    if row is None:
        return None
    case: Case = row[0]
    held = row[1] or ""
    tx_cache(session)[("materials", case.id)] = {int(i) for i in held.split(",") if i}
    return case


def current_material_indexes(session: Session, case: Case) -> set[int] | None:
    """The material indexes read with the locked case (``get_case(with_materials=True)``),
    taken once: the submission that read them checks them right away, and nothing later in
    the transaction can be handed indexes from before a change of its materials. None when
    they were not read so."""
    held: set[int] | None = tx_cache(session).pop(("materials", case.id), None)
    return held


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

"""The deadline sweep (电子监察): yellow cards for steps nearing their limit, red cards for
steps past it — each at most once per step — with reminders (催办) to the staff who hold the
step and to the tenant's supervisors, and 视为准予 where a definition turns it on. The same run
cards unanswered consultations and complaints (:mod:`core.supervision.questions`).

Only the indexed due columns are read (``ix_case_tasks_sweep``: tenant, state, card, due):
a sweep with nothing to flip is a couple of index probes per tenant, however many cases are
open. Rows are taken with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two sweeps (or a sweep
and a staff member acting) never wait on each other; a skipped row is flipped next minute.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select, union_all
from sqlalchemy.orm import Session

from core.calendar import cached_calendar
from core.cases import clock, engine
from core.cases.actions import deem_approved
from core.cases.models import Case, CaseState, CaseTask, TaskState
from core.cases.trail import SYSTEM, append_event
from core.consult import Consultation
from core.db import PLATFORM
from core.supervision import questions
from core.supervision.models import Card
from core.supervision.staff import holders, remind
from core.tenancy import OrgUnit, Tenant, scope_for
from core.tenancy import active_tenants as list_active

__all__ = [
    "SweepResult",
    "active_tenants",
    "run_sweep",
    "sweep_tenant",
    "yellow_days",
]

log = logging.getLogger("govhall.supervision")

BATCH = 500


@dataclass
class SweepResult:
    yellow: int = 0
    red: int = 0
    deemed: int = 0
    skipped: int = 0  # locked by someone acting right now: next sweep

    def __iadd__(self, other: SweepResult) -> SweepResult:
        self.yellow += other.yellow
        self.red += other.red
        self.deemed += other.deemed
        self.skipped += other.skipped
        return self


def yellow_days(tenant: Tenant) -> int:
    """Working days left when the yellow card comes (tenant setting, default 1)."""
    try:
        return max(0, int(tenant.settings.get("yellow_card_days_left", 1)))
    except (TypeError, ValueError):
        return 1


def _due_condition(tenant: Tenant, today: date, limit: date) -> Any:
    """Open steps without a card that near their limit, and yellow ones past it."""
    return and_(
        CaseTask.tenant_id == tenant.id,
        CaseTask.state == TaskState.open,
        or_(
            and_(CaseTask.card.is_(None), CaseTask.due_on <= limit),
            and_(CaseTask.card == "yellow", CaseTask.due_on < today),
        ),
    )


def _limit(session: Session, tenant: Tenant, today: date) -> date:
    return cached_calendar(session, tenant).add_working_days(today, yellow_days(tenant))


def tenants_with_due(session: Session, tenants: list[Tenant], today: date) -> set[uuid.UUID]:
    """Which tenants have anything due, in one statement (one index probe per tenant): an
    idle minute costs a single round trip whatever the number of open cases."""
    if not tenants:
        return set()
    probes = []
    for t in tenants:
        limit = _limit(session, t, today)
        probes.append(
            select(CaseTask.tenant_id)
            .where(_due_condition(t, today, limit))
            .limit(1)
            .subquery()
            .select()
        )
        # consultations and complaints waiting for an answer (core/supervision/questions.py)
        probes.append(
            select(Consultation.tenant_id)
            .where(questions.due_condition(t, today, limit))
            .limit(1)
            .subquery()
            .select()
        )
    return set(session.scalars(union_all(*probes)))


def _due(session: Session, tenant: Tenant, today: date, limit: date) -> list[CaseTask]:
    stmt = (
        select(CaseTask)
        .where(_due_condition(tenant, today, limit))
        .order_by(CaseTask.due_on)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def _cases(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, Case]:
    stmt = select(Case).where(Case.id.in_(ids))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return {c.id: c for c in session.scalars(stmt.execution_options(populate_existing=True))}


def sweep_tenant(session: Session, tenant: Tenant, today: date | None = None) -> SweepResult:
    """One batch of the tenant's due steps (the caller commits and calls again while the
    result flipped a full batch)."""
    today = today or clock.today()
    limit = _limit(session, tenant, today)
    result = SweepResult()
    tasks = _due(session, tenant, today, limit)
    if not tasks:
        return result
    cases = _cases(session, {t.case_id for t in tasks})
    staff = holders(session)
    parents = {u.id: u.parent_id for u in session.scalars(select(OrgUnit))}
    for task in tasks:
        case = cases.get(task.case_id)
        if case is None:  # someone is acting on it right now
            result.skipped += 1
            continue
        if case.state not in (CaseState.submitted, CaseState.in_progress):
            continue
        colour = "red" if task.due_on is not None and task.due_on < today else "yellow"
        task.card = colour
        session.add(
            Card(
                tenant_id=tenant.id,
                case_id=case.id,
                task_id=task.id,
                org_unit_id=task.org_unit_id,
                department_code=case.department_code,
                item_code=case.item_code,
                staff_id=task.claimed_by,
                staff_name=task.claimed_name,
                at=clock.now(),
                step_name=task.name,
                colour=colour,
                source="sweep",
                reason="环节即将到期" if colour == "yellow" else "环节已超过办理时限",
                issued_by="电子监察系统",
                due_on=task.due_on,
            )
        )
        append_event(
            session,
            case,
            SYSTEM,
            f"{colour}_card",
            from_state=case.state.value,
            step=task.step,
            data={"due_on": task.due_on.isoformat() if task.due_on else None},
        )
        params = {
            "number": case.number,
            "item": case.item_name,
            "step": task.name,
            "due_on": f"{task.due_on:%m月%d日}" if task.due_on else "",
        }
        remind(session, tenant, case, task, f"card_{colour}", params, staff=staff, parents=parents)
        if colour == "yellow":
            result.yellow += 1
            continue
        result.red += 1
        definition = engine.definition_of(case)
        if definition.deemed_approval and "approve" in definition.step(task.step).actions:
            deem_approved(session, tenant, case, task)
            result.deemed += 1
    session.flush()
    return result


def active_tenants(database: Any) -> list[Tenant]:
    """Every active tenant, detached (each job opens its own scoped session per tenant)."""
    with database.session(scope=PLATFORM) as session:
        tenants = list_active(session)
        session.expunge_all()
    return tenants


def run_sweep(database: Any, today: date | None = None) -> SweepResult:
    """Sweep every tenant with anything due, a committed batch at a time. Finding which
    tenants those are takes one session and two statements, so an idle minute is cheap."""
    today = today or clock.today()
    with database.session(scope=PLATFORM) as session:
        tenants = list_active(session)
        due = tenants_with_due(session, tenants, today)
        tenants = [t for t in tenants if t.id in due]
        session.expunge_all()
    total = SweepResult()
    for tenant in tenants:
        while True:
            with database.session(scope=scope_for(tenant)) as session:
                result = sweep_tenant(session, tenant, today)
                yellow, red = questions.sweep_questions(
                    session, tenant, today, _limit(session, tenant, today)
                )
                result.yellow, result.red = result.yellow + yellow, result.red + red
                session.commit()
            total += result
            if (
                result.yellow + result.red == 0
                or result.yellow + result.red + result.skipped < BATCH
            ):
                break
    return total

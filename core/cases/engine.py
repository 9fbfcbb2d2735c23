"""Moving a case through its pinned process definition: opening steps as tasks (with the org
unit that works them and their deadline), joining parallel branches, returning a step, and
recomputing every deadline from the calendar and the suspension periods."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import event, exists, select
from sqlalchemy.orm import Session

from core.calendar import Period, WorkCalendar, cached_calendar
from core.cases import clock
from core.cases.models import Case, CaseSuspension, CaseTask, TaskState
from core.db import MEMO_SECONDS, Scope, Snapshot, remembered, scope_of, snapshot, tx_cache, watch
from core.errors import Conflict, Forbidden
from core.identity import Principal, Role
from core.plugins import TenantHooks, get_plugin_manager
from core.tenancy import OrgUnit, OrgUnitKind, Tenant
from core.workflow import ProcessDefinition, Step

__all__ = [
    "pickup_place",
    "calendar_of",
    "cancel_open",
    "definition_of",
    "finish",
    "may_work",
    "no_tasks_yet",
    "note_tenant",
    "noted_tenant",
    "open_step",
    "open_tasks",
    "periods",
    "recompute_deadlines",
    "tenant_hooks",
    "reopen_before",
    "tasks_of",
    "unit_by_code",
    "unit_parents",
]

#: session.info key: the (task, case) pairs opened in the current transaction, which the
#: commit-time effects read (staff hear of their new work)
OPENED_TASKS = "govhall.tasks.opened"


watch(OrgUnit)


def note_tenant(session: Session, tenant: Tenant) -> None:
    """Keep the caller's tenant for the rest of the transaction: the effects at its commit
    (texts to the staff whose step opened, events for department systems) need its settings
    and plugins, and would otherwise read it again."""
    tx_cache(session)[("tenant", tenant.id)] = tenant


def noted_tenant(session: Session, tenant_id: uuid.UUID) -> Tenant | None:
    """The tenant a service of this transaction noted, if any."""
    tenant: Tenant | None = tx_cache(session).get(("tenant", tenant_id))
    return tenant


def tenant_hooks(session: Session, tenant: Tenant) -> TenantHooks:
    """The tenant's plugin hooks, made once per transaction: a submission asks for the
    county's form rules and, at its commit, whether a plugin forwards case events."""
    cache = tx_cache(session)
    hooks: TenantHooks | None = cache.get(("hooks", tenant.id))
    if hooks is None:
        hooks = cache[("hooks", tenant.id)] = get_plugin_manager().for_tenant(session, tenant)
    return hooks


def definition_of(case: Case) -> ProcessDefinition:
    return msgspec.convert(case.definition, ProcessDefinition)


def tasks_of(session: Session, case: Case) -> list[CaseTask]:
    """The case's tasks in the order they were opened; read once per transaction (every
    change locks the case row first, so nobody else adds tasks meanwhile) and kept up to
    date by :func:`open_step`."""
    cache = tx_cache(session)
    tasks = cache.get(("tasks", case.id))
    if tasks is None:
        query = (
            select(CaseTask)
            .where(CaseTask.case_id == case.id)
            .order_by(CaseTask.started_at, CaseTask.id)
        )
        if cache.get(("locked", case.id)):
            # a change: whether the case was ever suspended comes with its tasks, and its
            # deadlines need not read the suspensions when it never was (see periods)
            ever = exists().where(CaseSuspension.case_id == case.id).label("suspended")
            rows = session.execute(query.add_columns(ever)).all()
            tasks = [row[0] for row in rows]
            if rows:
                cache[("suspended", case.id)] = bool(rows[0][1])
        else:
            tasks = list(session.scalars(query))
        cache[("tasks", case.id)] = tasks
    return tasks


def no_tasks_yet(session: Session, case: Case) -> None:
    """A case being submitted has no tasks: no need to ask the database."""
    tx_cache(session)[("tasks", case.id)] = []


def open_tasks(session: Session, case: Case) -> list[CaseTask]:
    return [t for t in tasks_of(session, case) if t.state is TaskState.open]


def periods(session: Session, case: Case) -> list[Period]:
    """The case's suspension periods; none to read when its tasks were read with the
    knowledge that it was never suspended (under its lock) and none was added since."""
    if tx_cache(session).get(("suspended", case.id)) is False and not any(
        isinstance(o, CaseSuspension) and o.case_id == case.id for o in session.new
    ):
        return []
    rows = session.scalars(select(CaseSuspension).where(CaseSuspension.case_id == case.id))
    return [Period(r.start_on, r.end_on) for r in rows]


@event.listens_for(Session, "transient_to_pending")
def _suspension_added(session: Session, instance: object) -> None:
    """A suspension added in the transaction: its case was suspended after all."""
    if isinstance(instance, CaseSuspension):
        tx_cache(session).pop(("suspended", instance.case_id), None)


def org_units(session: Session) -> dict[uuid.UUID, Snapshot]:
    """The scope's org units, remembered for a moment (core/db/_memo.py): every submission
    and action routes its next step by them."""
    scope = scope_of(session)

    def load() -> dict[uuid.UUID, Snapshot]:
        return {u.id: snapshot(u) for u in session.scalars(select(OrgUnit))}

    if isinstance(scope, Scope):
        return remembered(session, ("org-units", scope.tenant_id), load)
    cache = tx_cache(session)  # platform work sees every tenant's units: not to be shared
    if "units" not in cache:
        cache["units"] = load()
    units: dict[uuid.UUID, Snapshot] = cache["units"]
    return units


def pickup_place(session: Session, case: Case) -> Snapshot | None:
    """Where a decided case's result waits for a citizen who collects it (窗口领取): the
    township centre it came in through (a village station's centre), else the service
    centre; None for a case not collected at a window."""
    if case.delivery_method != "pickup":
        return None
    units = org_units(session)
    origin = units.get(case.origin_unit_id) if case.origin_unit_id else None
    if origin is not None and origin.kind is OrgUnitKind.village_station and origin.parent_id:
        origin = units.get(origin.parent_id)
    if origin is not None:
        return origin
    return next((u for u in units.values() if u.kind is OrgUnitKind.service_centre), None)


def unit_parents(session: Session) -> dict[uuid.UUID, uuid.UUID | None]:
    """Each org unit's parent, from the remembered units."""
    return {u.id: u.parent_id for u in org_units(session).values()}


def unit_by_code(session: Session, code: str) -> Snapshot | None:
    """The scope's org unit with ``code``, from the remembered units."""
    return next((u for u in org_units(session).values() if u.code == code), None)


def calendar_of(session: Session, tenant: Tenant) -> WorkCalendar:
    """The tenant's working-day calendar, remembered for a moment (a holiday entered in this
    process counts at once, in another within two seconds)."""
    return cached_calendar(session, tenant, ttl=MEMO_SECONDS)


def _unit_for(session: Session, case: Case, step: Step) -> uuid.UUID | None:
    unit = _unit_id_for(session, case, step)
    return unit if isinstance(unit, uuid.UUID) else None


def _unit_id_for(session: Session, case: Case, step: Step) -> Any:
    """Which org unit works the step: the agent's village station, its township centre, the
    service centre's windows for acceptance, the responsible department for the rest."""
    units = org_units(session)
    origin = units.get(case.origin_unit_id) if case.origin_unit_id else None
    if step.level == "village":
        return origin.id if origin else None
    if step.level == "township":
        if origin and origin.kind is OrgUnitKind.village_station and origin.parent_id:
            return origin.parent_id
        return origin.id if origin and origin.kind is OrgUnitKind.township_centre else None
    if step.role == "window_clerk":
        centre = next((u for u in units.values() if u.kind is OrgUnitKind.service_centre), None)
        return centre.id if centre else None
    if step.role in ("applicant", "supervisor"):
        return None
    code = step.department or case.department_code
    return next((u.id for u in units.values() if u.code == code), None)


def open_step(session: Session, case: Case, step: Step, on: date) -> CaseTask:
    task = CaseTask(
        tenant_id=case.tenant_id,
        case_id=case.id,
        step=step.code,
        name=step.name,
        role=step.role,
        level=step.level,
        org_unit_id=_unit_for(session, case, step),
        state=TaskState.open,
        days=step.days,
        started_on=on,
        started_at=clock.now(),
    )
    session.add(task)
    session.info.setdefault(OPENED_TASKS, []).append((task, case))  # staff hear of it at commit
    cached = tx_cache(session).get(("tasks", case.id))
    if cached is not None:
        cached.append(task)
    return task


def finish(
    session: Session, case: Case, task: CaseTask, outcome: str, on: date
) -> tuple[list[CaseTask], bool]:
    """Close ``task`` and open what follows; returns (opened tasks, whether the process ended).

    A join step opens once the latest task of every step leading into it is done."""
    task.state, task.outcome, task.finished_at = TaskState.done, outcome, clock.now()
    definition = definition_of(case)
    tasks = list(tasks_of(session, case))
    opened: list[CaseTask] = []
    for code in definition.step(task.step).next:
        target = definition.step(code)
        if target.join:
            incoming = [s.code for s in definition.steps if code in s.next]
            latest = {t.step: t for t in tasks}  # ordered by start: the last one wins
            if not all(c in latest and latest[c].state is TaskState.done for c in incoming):
                continue
            if any(t.step == code and t.state is TaskState.open for t in tasks):
                continue
        opened.append(open_step(session, case, target, on))
    ended = not opened and not any(t.state is TaskState.open for t in tasks_of(session, case))
    return opened, ended


def reopen_before(session: Session, case: Case, task: CaseTask, on: date) -> list[CaseTask]:
    """``return``: close the task, cancel its siblings and reopen the step(s) leading here."""
    task.state, task.outcome, task.finished_at = TaskState.done, "returned", clock.now()
    cancel_open(session, case)
    definition = definition_of(case)
    previous = [s for s in definition.steps if task.step in s.next]
    if not previous:
        raise Conflict(f"step '{task.name}' has no earlier step to return to")
    return [open_step(session, case, previous[0], on)]


def cancel_open(session: Session, case: Case) -> None:
    for other in open_tasks(session, case):
        other.state, other.outcome, other.finished_at = (
            TaskState.cancelled,
            "cancelled",
            clock.now(),
        )


def end_suspensions(session: Session, case: Case) -> list[CaseSuspension]:
    """Close a running suspension: its last day is the day before today."""
    ended = []
    for row in session.scalars(
        select(CaseSuspension).where(
            CaseSuspension.case_id == case.id, CaseSuspension.end_on.is_(None)
        )
    ):
        row.end_on = clock.period(row.start_on, clock.today()).end
        ended.append(row)
    session.flush()
    return ended


def recompute_deadlines(
    session: Session,
    tenant: Tenant,
    case: Case,
    calendar: WorkCalendar | None = None,
    *,
    suspended: list[Period] | None = None,
) -> None:
    """Every deadline from the calendar and the dated suspension periods (NULL while one
    lasts): the open steps' and, once accepted, the case's promised and legal ones.
    ``suspended=[]`` when the caller knows there were none (a case just submitted)."""
    note_tenant(session, tenant)
    calendar = calendar or calendar_of(session, tenant)
    if suspended is None:
        suspended = periods(session, case)
    for task in open_tasks(session, case):
        task.due_on = clock.deadline(calendar, task.started_on, task.days, suspended)
    if case.accepted_on is not None:
        promised = int(case.content.get("promised_days") or 0) + case.extension_days
        legal = int(case.content.get("legal_days") or 0) + case.extension_days
        case.due_on = clock.deadline(calendar, case.accepted_on, promised, suspended)
        case.legal_due_on = clock.deadline(calendar, case.accepted_on, legal, suspended)


def stop_clock(session: Session, tenant: Tenant, case: Case) -> None:
    """At completion: on time when decided by the promised date (no promised date, as for 即办:
    on time), and the working days used since acceptance with suspended days not counted."""
    today = clock.today()
    case.on_time = case.due_on is None or today <= case.due_on
    if case.accepted_on is None:
        case.work_days = 0
        return
    case.work_days = calendar_of(session, tenant).working_days_between(
        case.accepted_on, today, periods(session, case)
    )


def may_work(session: Session, principal: Principal, task: CaseTask) -> bool:
    """Staff holding the step's role tenant-wide, in the task's unit, or in a unit under it
    (a window of the service centre)."""
    if not principal.is_staff or task.role == "applicant":
        return False
    try:
        role = Role(task.role)
    except ValueError:
        return False
    units = None
    for held, unit in principal.roles:
        if held is not role:
            continue
        if unit is None or task.org_unit_id is None or unit == task.org_unit_id:
            return True
        units = units or org_units(session)
        if units.get(unit) is not None and units[unit].parent_id == task.org_unit_id:
            return True
    return False


def require_worker(session: Session, principal: Principal, task: CaseTask) -> None:
    if not may_work(session, principal, task):
        raise Forbidden(f"您没有办理“{task.name}”环节的权限")
    if task.claimed_by is not None and principal.id != task.claimed_by:
        raise Conflict(f"“{task.name}”已由{task.claimed_name}认领")

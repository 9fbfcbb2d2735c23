"""The staff workbench's queues: the open steps a person may work, grouped by the kind of step
(受理, 审核, 审批, 发证, and 送达 for decided cases waiting to be handed over), with a count per
queue, filters (item, department, card colour, due before), soonest deadline first, paged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.calendar import WorkCalendar
from core.cases import queries
from core.cases.access import visible_to
from core.cases.models import Case, CaseState, CaseTask
from core.identity import Principal, Role
from core.tenancy import OrgUnit, OrgUnitKind

__all__ = [
    "QUEUES",
    "QueueFilter",
    "QueuePage",
    "QueueRow",
    "card_colour",
    "departments",
    "staff_queue",
]

#: the queues, by the role a step asks for; "deliver" holds decided cases not yet handed over
QUEUES = {
    "agent": "代办",
    "window_clerk": "受理",
    "reviewer": "审核",
    "approver": "审批",
    "issuer": "发证",
    "deliver": "送达",
}
COLOURS = ("green", "yellow", "red", "grey")
PAGE_SIZE = 20


def card_colour(
    due_on: date | None, today: date, calendar: WorkCalendar, started_on: date | None = None
) -> str:
    """green: in time; yellow: due within one working day; red: overdue; grey: no clock.
    A step is never yellow on the day it opened (``started_on``): a one-day step would be
    "nearing its limit" the moment it arrives — the sweep cards it the next day too."""
    if due_on is None:
        return "grey"
    if due_on < today:
        return "red"
    if started_on is not None and started_on >= today:
        return "green"
    return "yellow" if calendar.working_days_between(today, due_on) <= 1 else "green"


@dataclass(frozen=True)
class QueueFilter:
    queue: str = ""
    item: str = ""
    department: str = ""
    colour: str = ""
    due_before: date | None = None
    page: int = 1


@dataclass(frozen=True)
class QueueRow:
    case: Case
    task: CaseTask | None
    queue: str
    colour: str
    due_on: date | None


@dataclass
class QueuePage:
    rows: list[QueueRow]
    #: queue code → how many rows it holds under the other filters
    counts: dict[str, int]
    total: int
    page: int
    pages: int
    departments: list[tuple[str, str]] = field(default_factory=list)


def _held(principal: Principal) -> set[str]:
    """The queues a person works, shown even when empty."""
    held = {r.value for r, _ in principal.roles} & set(QUEUES)
    if principal.has_role(Role.issuer) or principal.has_role(Role.window_clerk):
        held.add("deliver")
    return held


def departments(session: Session) -> list[tuple[str, str]]:
    """The tenant's open departments (code, name), for the queue's filter."""
    rows = session.execute(
        select(OrgUnit.code, OrgUnit.name)
        .where(OrgUnit.kind == OrgUnitKind.department, OrgUnit.closed_at.is_(None))
        .order_by(OrgUnit.code)
    )
    return [(code, name) for code, name in rows]


def _deliverable(session: Session, principal: Principal) -> list[Case]:
    if not (principal.has_role(Role.issuer) or principal.has_role(Role.window_clerk)):
        return []
    stmt = select(Case).where(Case.state == CaseState.completed)
    reach = visible_to(session, principal)  # a department's results, not every department's
    if reach is not None:
        stmt = stmt.where(reach)
    rows = session.scalars(stmt.order_by(Case.completed_at).limit(500))
    return [c for c in rows if not (c.delivery_method == "courier" and c.tracking)]


def staff_queue(
    session: Session,
    principal: Principal,
    today: date,
    calendar: WorkCalendar,
    wanted: QueueFilter,
    *,
    page_size: int = PAGE_SIZE,
) -> QueuePage:
    rows = [
        QueueRow(
            case,
            task,
            task.role,
            card_colour(task.due_on, today, calendar, task.started_on),
            task.due_on,
        )
        for task, case in queries.work_queue(session, principal, limit=500)
    ]
    rows += [
        QueueRow(case, None, "deliver", "grey", None) for case in _deliverable(session, principal)
    ]
    names = dict(session.execute(select(OrgUnit.code, OrgUnit.name)).all())
    codes = {r.case.department_code for r in rows}
    departments = sorted((c, names.get(c, c)) for c in codes)
    item = wanted.item.strip().lower()

    def keep(r: QueueRow) -> bool:
        if item and not any(
            item in text.lower() for text in (r.case.item_code, r.case.item_name, r.case.number)
        ):  # a citizen at the counter names their case by its number
            return False
        if wanted.department and r.case.department_code != wanted.department:
            return False
        if wanted.colour and r.colour != wanted.colour:
            return False
        return not (wanted.due_before and (r.due_on is None or r.due_on > wanted.due_before))

    kept = [r for r in rows if keep(r)]
    counts = {code: 0 for code in QUEUES}
    for r in kept:
        counts[r.queue] = counts.get(r.queue, 0) + 1
    if wanted.queue:
        kept = [r for r in kept if r.queue == wanted.queue]
    kept.sort(key=lambda r: (r.due_on is None, r.due_on or today, r.case.number))
    pages = max(1, -(-len(kept) // page_size))
    page = min(max(1, wanted.page), pages)
    return QueuePage(
        rows=kept[(page - 1) * page_size : page * page_size],
        counts={k: v for k, v in counts.items() if v or k in _held(principal)},
        total=len(kept),
        page=page,
        pages=pages,
        departments=departments,
    )

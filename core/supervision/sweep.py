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
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from typing import cast as typed

import msgspec
from sqlalchemy import (
    Table,
    TypeDecorator,
    and_,
    case,
    func,
    insert,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from core.calendar import cached_calendar
from core.cases import clock, engine
from core.cases.actions import deem_approved
from core.cases.models import Case, CaseEvent, CaseState, CaseTask, TaskState
from core.cases.trail import GENESIS, NEW_EVENTS, SYSTEM
from core.cases.trail import _digest as digest
from core.consult import Consultation
from core.db import PLATFORM, new_id
from core.notify.outbox import OutboxMessage, note_written
from core.supervision import questions
from core.supervision.models import Card
from core.supervision.staff import Holder, holders, recipients, unit_parents
from core.tenancy import Tenant, scope_for
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

    def __iadd__(self, other: SweepResult) -> SweepResult:
        self.yellow += other.yellow
        self.red += other.red
        self.deemed += other.deemed
        return self


@dataclass(slots=True)
class _Event:
    """A trail event of the batch: the columns of ``case_events``, hashed by the trail's own
    digest (what :func:`core.cases.trail.verify_chain` checks) without the cost of an ORM
    object; the departments' systems read the same attributes from it at commit."""

    tenant_id: uuid.UUID
    id: uuid.UUID
    case_id: uuid.UUID
    seq: int
    at: datetime
    actor_kind: str
    actor_id: str
    actor_name: str
    action: str
    from_state: str
    to_state: str
    step: str
    reason: str
    data: dict[str, Any]
    prev_hash: str
    hash: str = ""

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class _Case:
    """What the departments' systems are told of a carded step's case (at commit)."""

    tenant_id: uuid.UUID
    id: uuid.UUID
    number: str
    item_code: str
    item_name: str
    department_code: str
    due_on: date | None


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


_COLUMNS = (
    # the step's
    CaseTask.id,
    CaseTask.case_id,
    CaseTask.step,
    CaseTask.name,
    CaseTask.role,
    CaseTask.org_unit_id,
    CaseTask.due_on,
    CaseTask.claimed_by,
    CaseTask.claimed_name,
    # its case's head and what a card and a reminder say of it
    Case.state,
    Case.event_count,
    Case.last_hash,
    Case.number,
    Case.item_code,
    Case.item_name,
    Case.department_code,
    Case.due_on.label("case_due_on"),
    # not the whole process definition (a JSON document per case): only the switch
    Case.definition["deemed_approval"].label("deemed_approval"),
)


def _due(session: Session, tenant: Tenant, today: date, limit: date) -> list[Any]:
    """The batch's due steps of cases being worked, with their cases' heads, in one
    statement. On PostgreSQL both rows are locked (``FOR UPDATE SKIP LOCKED``): the step
    gets its card, the case's trail is appended to; a step or case someone is acting on
    right now is left for the next sweep."""
    stmt = (
        select(*_COLUMNS)
        .join(Case, (Case.tenant_id == CaseTask.tenant_id) & (Case.id == CaseTask.case_id))
        .where(
            _due_condition(tenant, today, limit),
            Case.state.in_((CaseState.submitted, CaseState.in_progress)),
        )
        .order_by(CaseTask.due_on)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=(CaseTask, Case))
    return list(session.execute(stmt))


def sweep_tenant(session: Session, tenant: Tenant, today: date | None = None) -> SweepResult:
    """One batch of the tenant's due steps (the caller commits and calls again while the
    result flipped a full batch). Read with their cases' heads in one statement and written
    set-wise: one statement for the steps' cards, one for the card register, one for the
    trail events (each case's hash chain computed here, in order, from the locked head), one
    for the reminders and one for the cases' heads; 视为准予 then goes through the service
    layer."""
    today = today or clock.today()
    engine.note_tenant(session, tenant)
    limit = _limit(session, tenant, today)
    result = SweepResult()
    tasks = _due(session, tenant, today, limit)
    if not tasks:
        return result
    staff = holders(session)
    parents = unit_parents(session)
    now = clock.now()
    at = now.astimezone(UTC)  # the trail's events are hashed over UTC microseconds
    reach: dict[tuple[str, uuid.UUID | None], list[Holder]] = {}
    flipped: list[uuid.UUID] = []
    cases: dict[uuid.UUID, _Case] = {}
    cards: list[dict[str, Any]] = []
    events: list[_Event] = []
    heads: dict[uuid.UUID, tuple[int, str]] = {}
    texts: list[dict[str, Any]] = []
    deem: list[tuple[uuid.UUID, uuid.UUID]] = []
    for task in tasks:
        # (the row carries its case's columns too)
        if task.case_id not in cases:
            cases[task.case_id] = _Case(
                tenant.id,
                task.case_id,
                task.number,
                task.item_code,
                task.item_name,
                task.department_code,
                task.case_due_on,
            )
        colour = "red" if task.due_on is not None and task.due_on < today else "yellow"
        flipped.append(task.id)
        cards.append(
            {
                "tenant_id": tenant.id,
                "id": new_id(),
                "case_id": task.case_id,
                "task_id": task.id,
                "org_unit_id": task.org_unit_id,
                "department_code": task.department_code,
                "item_code": task.item_code,
                "staff_id": task.claimed_by,
                "staff_name": task.claimed_name,
                "at": now,
                "step_name": task.name,
                "colour": colour,
                "source": "sweep",
                "reason": "环节即将到期" if colour == "yellow" else "环节已超过办理时限",
                "issued_by": "电子监察系统",
                "due_on": task.due_on,
            }
        )
        count, last = heads.get(task.case_id, (task.event_count, task.last_hash or GENESIS))
        event = _Event(
            tenant_id=tenant.id,
            id=new_id(),
            case_id=task.case_id,
            seq=count + 1,
            at=at,
            actor_kind=SYSTEM.kind,
            actor_id=SYSTEM.id,
            actor_name=SYSTEM.name,
            action=f"{colour}_card",
            from_state=task.state.value,
            to_state=task.state.value,
            step=task.step,
            reason="",
            data={"due_on": task.due_on.isoformat() if task.due_on else None},
            prev_hash=last,
        )
        event.hash = digest(last, typed(CaseEvent, event))
        heads[task.case_id] = (event.seq, event.hash)
        events.append(event)
        params = {
            "number": task.number,
            "item": task.item_name,
            "step": task.name,
            "due_on": f"{task.due_on:%m月%d日}" if task.due_on else "",
        }
        key = (task.role, task.org_unit_id)
        if key not in reach:  # the same few roles and units recur all through a batch
            reach[key] = [h for h in recipients(typed(CaseTask, task), staff, parents) if h.phone]
        texts.extend(
            {
                "tenant_id": tenant.id,
                "id": new_id(),
                "template": f"card_{colour}",
                "phone": h.phone,
                "params": params,
                "case_id": task.case_id,
            }
            for h in reach[key]
        )
        if colour == "yellow":
            result.yellow += 1
            continue
        result.red += 1
        if task.deemed_approval:
            deem.append((task.case_id, task.id))
    _write(session, tenant, today, flipped, cards, events, texts, cases)
    for case_id, task_id in deem:
        case_row = session.get(Case, (tenant.id, case_id), populate_existing=True)
        task_row = session.get(CaseTask, (tenant.id, task_id), populate_existing=True)
        assert case_row is not None and task_row is not None
        definition = engine.definition_of(case_row)
        if "approve" in definition.step(task_row.step).actions:
            deem_approved(session, tenant, case_row, task_row)
            result.deemed += 1
    session.flush()
    return result


def _write(
    session: Session,
    tenant: Tenant,
    today: date,
    flipped: list[uuid.UUID],
    cards: list[dict[str, Any]],
    events: list[_Event],
    texts: list[dict[str, Any]],
    cases: dict[uuid.UUID, _Case],
) -> None:
    """The batch's rows, a statement per table: the steps' cards (their colour decided in
    SQL as it was here: red once past the limit), the card register, the trail events and
    the reminders (:func:`_insert_many`), and the cases' heads, moved by one ``UPDATE`` that
    reads each head back from the events just written (the cases are locked: nobody else
    appends to their trails meanwhile)."""
    session.execute(
        update(CaseTask)
        .where(CaseTask.tenant_id == tenant.id, CaseTask.id.in_(flipped))
        .values(card=case((CaseTask.due_on < today, "red"), else_="yellow"))
        .execution_options(synchronize_session=False)
    )
    _insert_many(session, typed(Table, Card.__table__), cards)
    _insert_many(session, typed(Table, CaseEvent.__table__), [e.row() for e in events])
    if texts:
        _insert_many(session, typed(Table, OutboxMessage.__table__), texts)
        note_written(session, [t["id"] for t in texts])
    table = typed(Table, Case.__table__)
    trail = typed(Table, CaseEvent.__table__)
    mine = and_(trail.c.tenant_id == table.c.tenant_id, trail.c.case_id == table.c.id)
    session.connection().execute(
        update(table)
        .where(table.c.tenant_id == tenant.id, table.c.id.in_({e.case_id for e in events}))
        .values(
            event_count=select(func.max(trail.c.seq)).where(mine).scalar_subquery(),
            last_hash=select(trail.c.hash)
            .where(mine)
            .order_by(trail.c.seq.desc())
            .limit(1)
            .scalar_subquery(),
            version=table.c.version + 1,
            updated_at=clock.now(),
        )
    )
    # department systems hear of the cards at commit, like any event (core.cases.departments)
    session.info.setdefault(NEW_EVENTS, []).extend((e, cases[e.case_id]) for e in events)


def _insert_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (each with the same keys) in one statement. On PostgreSQL the batch
    travels as one JSON document that ``json_populate_recordset`` turns back into rows of
    the table: a single short statement whatever the batch size, the row-level security
    policy evaluated once (an executemany sends, and the policy checks, one ``INSERT`` per
    row; a multi-row ``VALUES`` of a thousand rows costs more to render and parse than to
    insert; arrays per column cost more to quote in Python than the rows to insert). Each
    value goes through its column's own type first (a phone is encrypted, a time made UTC)
    as in any insert; a column left out takes its default."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    given = rows[0].keys()
    values: dict[str, list[Any]] = {}  # by column name: the JSON's keys are the row type's
    for column in table.columns:
        default = column.default
        if column.key in given:
            values[column.name] = [r[column.key] for r in rows]
        elif isinstance(default, ScalarElementColumnDefault):
            values[column.name] = [default.arg] * len(rows)
        elif isinstance(default, CallableColumnDefault):
            # (these tables' are utcnow and new_id: no execution context needed)
            values[column.name] = [default.arg(typed(Any, None)) for _ in rows]
        elif default is None:
            continue
        else:  # a default SQLAlchemy evaluates in SQL: none of these tables has one
            raise TypeError(f"{table.name}.{column.key}: give a value")
        kind = column.type
        if isinstance(kind, TypeDecorator):
            values[column.name] = [kind.process_bind_param(v, dialect) for v in values[column.name]]
    names = tuple(values)
    document = _encoder.encode(
        [dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=True)]
    )
    connection.execute(_recordset_insert(table, names), {"rows": document.decode()})


_encoder = msgspec.json.Encoder()


@cache
def _recordset_insert(table: Table, names: tuple[str, ...]) -> Any:
    """``INSERT INTO t (…) SELECT … FROM json_populate_recordset(NULL::t, :rows)`` for
    these columns (built once)."""
    columns = ", ".join(names)
    return text(
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} "
        f"FROM json_populate_recordset(NULL::{table.name}, CAST(:rows AS json))"
    )


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
            if result.yellow + result.red < BATCH:  # a batch short of full: all done
                break
    return total

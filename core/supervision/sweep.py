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
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from typing import cast as typed

import msgspec
from sqlalchemy import (
    Connection,
    Table,
    TypeDecorator,
    and_,
    case,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from core.calendar import cached_calendar
from core.cases import clock, engine
from core.cases.actions import deem_approved
from core.cases.models import Case, CaseEvent, CaseState, CaseTask, TaskState
from core.cases.trail import GENESIS, NEW_EVENTS, SYSTEM, digest
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
    #: (a batch) more steps are due than it flipped
    more: bool = False

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
        """Its own columns (those every event of the batch shares go once: :data:`_SHARED`)."""
        return {name: getattr(self, name) for name in _OWN}


#: the columns of a batch's events that are the same in all of them
_SHARED = ("tenant_id", "at", "actor_kind", "actor_id", "actor_name", "reason")
_OWN = tuple(name for name in _Event.__slots__ if name not in _SHARED)


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
            and_(CaseTask.card.is_(None), CaseTask.due_on <= limit, CaseTask.started_on < today),
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
    """The batch's due steps of cases being worked, with their cases' heads: first yellow
    steps past their limit, then steps without a card nearing it, each in order of their
    limits. Each kind is one range of ``ix_case_tasks_sweep`` read in ``due_on`` order, so a
    read stops at the batch however many steps are due (the two conditions in one statement
    joined every due step to its case before sorting them: each batch read the whole
    backlog). On PostgreSQL both rows are locked (``FOR UPDATE SKIP LOCKED``): the step gets
    its card, the case's trail is appended to; a step or case someone is acting on right now
    is left for the next sweep."""
    rows: list[Any] = []  # (one more than a batch: whether another batch is needed)
    for kind in (
        and_(CaseTask.card == "yellow", CaseTask.due_on < today),
        # never on the day a step opened (a one-day step is "near its limit" at once); one
        # opened today whose limit is today already is carded red tomorrow
        and_(CaseTask.card.is_(None), CaseTask.due_on <= limit, CaseTask.started_on < today),
    ):
        stmt = (
            select(*_COLUMNS)
            .join(Case, (Case.tenant_id == CaseTask.tenant_id) & (Case.id == CaseTask.case_id))
            .where(
                CaseTask.tenant_id == tenant.id,
                CaseTask.state == TaskState.open,
                kind,
                Case.state.in_((CaseState.submitted, CaseState.in_progress)),
            )
            # (the card is the same in every row of a kind: ordering by it too lets the index
            # give the order — for IS NULL PostgreSQL would sort)
            .order_by(CaseTask.card, CaseTask.due_on)
            .limit(BATCH + 1 - len(rows))
        )
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=(CaseTask, Case))
        rows.extend(session.execute(stmt))
        if len(rows) > BATCH:
            break
    return rows


def sweep_tenant(session: Session, tenant: Tenant, today: date | None = None) -> SweepResult:
    """One batch of the tenant's due steps (the caller commits and calls again while the
    result says there are ``more``). Read with their cases' heads (:func:`_due`) and written
    set-wise: one statement for the steps' cards, one for the card register, one for the
    trail events (each case's hash chain computed here, in order, from the locked head), one
    for the cases' heads and one for the reminders; 视为准予 then goes through the service
    layer. On PostgreSQL the five go out in one pipeline (:class:`_Batch`), each as soon as
    it is built: the server writes one table while the next one's rows are made here."""
    today = today or clock.today()
    engine.note_tenant(session, tenant)
    limit = _limit(session, tenant, today)
    result = SweepResult()
    tasks = _due(session, tenant, today, limit)
    if not tasks:
        return result
    # the one past the batch stays locked until the commit, and is flipped by the next batch
    result.more, tasks = len(tasks) > BATCH, tasks[:BATCH]
    staff = holders(session)  # (read before the pipeline: their rows are waited for)
    parents = unit_parents(session)
    now = clock.now()
    at = now.astimezone(UTC)  # the trail's events are hashed over UTC microseconds
    colours = ["red" if t.due_on is not None and t.due_on < today else "yellow" for t in tasks]
    with _Batch(session, tenant) as batch:
        batch.card_steps([t.id for t in tasks], today)
        batch.insert(
            _table(Card),
            _cards(tasks, colours),
            tenant_id=tenant.id,
            at=now,
            source="sweep",
            issued_by="电子监察系统",
        )
        events = _events(tenant, tasks, colours, at)
        first = events[0]
        batch.insert(
            _table(CaseEvent),
            [e.row() for e in events],
            **{name: getattr(first, name) for name in _SHARED},
        )
        batch.move_heads(events, now)
        texts = _texts(tasks, colours, holders=staff, parents=parents)
        batch.insert(_table(OutboxMessage), texts, tenant_id=tenant.id)
    if texts:
        note_written(session, [t["id"] for t in texts])
    # department systems hear of the cards at commit, like any event (core.cases.departments)
    cases: dict[uuid.UUID, _Case] = {}
    for task in tasks:
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
    session.info.setdefault(NEW_EVENTS, []).extend((e, cases[e.case_id]) for e in events)
    result.red = colours.count("red")
    result.yellow = len(colours) - result.red
    for task, colour in zip(tasks, colours, strict=True):
        if colour != "red" or not task.deemed_approval:
            continue
        case_row = session.get(Case, (tenant.id, task.case_id), populate_existing=True)
        task_row = session.get(CaseTask, (tenant.id, task.id), populate_existing=True)
        assert case_row is not None and task_row is not None
        definition = engine.definition_of(case_row)
        if "approve" in definition.step(task_row.step).actions:
            deem_approved(session, tenant, case_row, task_row)
            result.deemed += 1
    session.flush()
    return result


def _cards(tasks: list[Any], colours: list[str]) -> list[dict[str, Any]]:
    """The card register's rows, one a step (without what they share: the tenant, the time,
    the source and issuer)."""
    return [
        {
            "id": new_id(),
            "case_id": task.case_id,
            "task_id": task.id,
            "org_unit_id": task.org_unit_id,
            "department_code": task.department_code,
            "item_code": task.item_code,
            "staff_id": task.claimed_by,
            "staff_name": task.claimed_name,
            "step_name": task.name,
            "colour": colour,
            "reason": "环节即将到期" if colour == "yellow" else "环节已超过办理时限",
            "due_on": task.due_on,
        }
        for task, colour in zip(tasks, colours, strict=True)
    ]


def _events(tenant: Tenant, tasks: list[Any], colours: list[str], at: datetime) -> list[_Event]:
    """A trail event a step, each case's chain carried on from its locked head in order."""
    heads: dict[uuid.UUID, tuple[int, str]] = {}
    events: list[_Event] = []
    for task, colour in zip(tasks, colours, strict=True):
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
    return events


def _texts(
    tasks: list[Any],
    colours: list[str],
    *,
    holders: list[Holder],
    parents: dict[uuid.UUID, uuid.UUID | None],
) -> list[dict[str, Any]]:
    """The reminders (outbox rows, without their tenant): one to each holder of each step and
    to the supervisors."""
    reach: dict[tuple[str, uuid.UUID | None], list[Holder]] = {}
    texts: list[dict[str, Any]] = []
    for task, colour in zip(tasks, colours, strict=True):
        params = {
            "number": task.number,
            "item": task.item_name,
            "step": task.name,
            "due_on": f"{task.due_on:%m月%d日}" if task.due_on else "",
        }
        key = (task.role, task.org_unit_id)
        if key not in reach:  # the same few roles and units recur all through a batch
            reach[key] = [h for h in recipients(typed(CaseTask, task), holders, parents) if h.phone]
        texts.extend(
            {
                "id": new_id(),
                "template": f"card_{colour}",
                "phone": h.phone,
                "params": params,
                "case_id": task.case_id,
            }
            for h in reach[key]
        )
    return texts


def _table(model: Any) -> Table:
    return typed(Table, model.__table__)


class _Batch:
    """The batch's writes, a statement per table.

    On PostgreSQL (psycopg) they are sent in pipeline mode on the session's own connection:
    each statement leaves as soon as it is built and nothing waits for its answer until the
    batch ends (``__exit__``, where a failed statement raises as SQLAlchemy raises a driver's
    error: the caller's transaction is rolled back as usual). The rows go as one JSON
    document per table into ``INSERT … SELECT … FROM json_populate_recordset``
    (:func:`_recordset`), and the cases' heads are moved to the values computed here.
    Elsewhere (SQLite) the same writes go through SQLAlchemy one after another, the heads read
    back from the events just written."""

    def __init__(self, session: Session, tenant: Tenant) -> None:
        self.connection = session.connection()
        self.tenant = tenant
        self.piped = _pipelines(self.connection)
        self._pipeline: AbstractContextManager[Any] | None = None
        self._cursor: Any = None

    def __enter__(self) -> _Batch:
        if self.piped:
            driver = self.connection.connection.driver_connection
            assert driver is not None
            pipeline: AbstractContextManager[Any] = driver.pipeline()
            pipeline.__enter__()
            self._pipeline = pipeline
            self._cursor = driver.cursor()
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if self._pipeline is None:
            return
        import psycopg

        pipeline, self._pipeline = self._pipeline, None
        try:
            try:
                pipeline.__exit__(kind, error, trace)  # every answer: the first error raises
            finally:
                self._cursor.close()
        except psycopg.Error as failed:
            if error is None:
                raise self._wrapped(failed) from failed
        # (a statement's error may also come back while a later one is sent)
        if isinstance(error, psycopg.Error):
            raise self._wrapped(error) from error

    def _wrapped(self, error: Exception) -> StatementError:
        """The driver's error as SQLAlchemy raises it from a statement (an
        ``IntegrityError`` stays one; a lost connection is not handed out again)."""
        import psycopg

        connection = self.connection
        lost = connection.dialect.is_disconnect(error, connection.connection, None)  # type: ignore[arg-type]
        if lost:
            connection.invalidate(error)
        return DBAPIError.instance(None, None, error, psycopg.Error, connection_invalidated=lost)

    def _send(self, sql: str, params: tuple[Any, ...]) -> None:
        self._cursor.execute(sql, params)

    def card_steps(self, ids: list[uuid.UUID], today: date) -> None:
        """The steps' cards: red once past the limit, as the colours were decided here."""
        if self.piped:
            self._send(_CARD_STEPS, (today, self.tenant.id, ids))
            return
        self.connection.execute(
            update(CaseTask)
            .where(CaseTask.tenant_id == self.tenant.id, CaseTask.id.in_(ids))
            .values(card=case((CaseTask.due_on < today, "red"), else_="yellow"))
        )

    def insert(self, table: Table, rows: list[dict[str, Any]], **same: Any) -> None:
        """``rows`` (each with the same keys), and the values they all share, in one
        statement."""
        if not rows:
            return
        if self.piped:
            one, each = _recordset(table, rows, same, self.connection.dialect)
            self._send(_recordset_insert(table, tuple(rows[0]), tuple(same)), (one, each))
            return
        self.connection.execute(insert(table), [same | r for r in rows])

    def move_heads(self, events: list[_Event], now: datetime) -> None:
        """Each case's head onto its last event of the batch (the cases are locked: nobody
        else appends to their trails meanwhile)."""
        last = {e.case_id: e for e in events}  # (in order: a case's last event wins)
        if self.piped:
            ids = list(last)
            counts = [e.seq for e in last.values()]
            hashes = [e.hash for e in last.values()]
            self._send(_MOVE_HEADS, (now, ids, counts, hashes, self.tenant.id))
            return
        table, trail = _table(Case), _table(CaseEvent)
        mine = and_(trail.c.tenant_id == table.c.tenant_id, trail.c.case_id == table.c.id)
        self.connection.execute(
            update(table)
            .where(table.c.tenant_id == self.tenant.id, table.c.id.in_(last))
            .values(
                event_count=select(func.max(trail.c.seq)).where(mine).scalar_subquery(),
                last_hash=select(trail.c.hash)
                .where(mine)
                .order_by(trail.c.seq.desc())
                .limit(1)
                .scalar_subquery(),
                version=table.c.version + 1,
                updated_at=now,
            )
        )


_CARD_STEPS = (
    "UPDATE case_tasks SET card = CASE WHEN due_on < %s THEN 'red' ELSE 'yellow' END "
    "WHERE tenant_id = %s AND id = ANY(%s)"
)
_MOVE_HEADS = (
    "UPDATE cases SET event_count = head.seq, last_hash = head.hash, "
    "version = cases.version + 1, updated_at = %s "
    "FROM unnest(%s::uuid[], %s::integer[], %s::text[]) AS head(id, seq, hash) "
    "WHERE cases.tenant_id = %s AND cases.id = head.id"
)


def _pipelines(connection: Connection) -> bool:
    """Whether ``connection`` is psycopg's with pipeline mode available."""
    if connection.dialect.driver != "psycopg":
        return False
    import psycopg

    return psycopg.Pipeline.is_supported()


def _recordset(
    table: Table, rows: list[dict[str, Any]], same: dict[str, Any], dialect: Any
) -> tuple[str, str]:
    """The JSON documents :func:`_recordset_insert` reads: the values the batch's rows share
    (``same`` and the columns' defaults) once, as one record, and each row's own values as a
    record set. A single short statement whatever the batch size, the row-level security
    policy evaluated once (an executemany sends, and the policy checks, one ``INSERT`` per
    row; a multi-row ``VALUES`` of a thousand rows costs more to render and parse than to
    insert; arrays per column cost more to quote in Python than the rows to insert). Each
    value goes through its column's own type first (a phone is encrypted, a time made UTC)
    as in any insert; a column left out takes its default (computed once for the batch, as
    SQL's ``now()`` would be; none of these tables leaves its key to a default)."""
    given = rows[0].keys()
    shared: dict[str, Any] = {}
    values: dict[str, list[Any]] = {}  # by column name: the JSON's keys are the row type's
    for column in table.columns:
        default = column.default
        kind = column.type
        bind = kind.process_bind_param if isinstance(kind, TypeDecorator) else None
        if column.key in given:
            each = [r[column.key] for r in rows]
            values[column.name] = [bind(v, dialect) for v in each] if bind else each
            continue
        if column.key in same:
            value = same[column.key]
        elif isinstance(default, ScalarElementColumnDefault):
            value = default.arg
        elif isinstance(default, CallableColumnDefault) and not column.primary_key:
            # (these tables' are utcnow: no execution context needed)
            value = default.arg(typed(Any, None))
        elif default is None:
            continue
        else:  # a key, or a default SQLAlchemy evaluates in SQL: none of these tables has one
            raise TypeError(f"{table.name}.{column.key}: give a value")
        shared[column.name] = bind(value, dialect) if bind else value
    names = tuple(values)
    each_row = [dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=True)]
    return _encoder.encode(shared).decode(), _encoder.encode(each_row).decode()


_encoder = msgspec.json.Encoder()


@cache
def _recordset_insert(table: Table, given: tuple[str, ...], same: tuple[str, ...]) -> str:
    """``INSERT INTO t (…) SELECT one.…, each.… FROM json_populate_record(NULL::t, %s)
    AS one, json_populate_recordset(NULL::t, %s) AS each`` for the columns
    :func:`_recordset` writes (built once)."""
    names, picks = [], []
    for c in table.columns:
        if c.key in given:
            names.append(c.name)
            picks.append(f"each_row.{c.name}")
        elif c.key in same or (
            isinstance(c.default, ScalarElementColumnDefault | CallableColumnDefault)
            and not c.primary_key
        ):
            names.append(c.name)
            picks.append(f"one.{c.name}")
    return (
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(picks)} "
        f"FROM json_populate_record(NULL::{table.name}, %s::json) AS one, "
        f"json_populate_recordset(NULL::{table.name}, %s::json) AS each_row"
    )


def active_tenants(database: Any) -> list[Tenant]:
    """Every active tenant, detached (each job opens its own scoped session per tenant)."""
    with database.session(scope=PLATFORM) as session:
        tenants = list_active(session)
        session.expunge_all()
    return tenants


def run_sweep(database: Any, today: date | None = None) -> SweepResult:
    """Sweep every tenant with anything due, a committed batch at a time (a batch reads one
    step more than it flips, so the last one is not an empty batch). Finding which tenants
    those are takes one session and two statements, so an idle minute is cheap."""
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
            # all done: no step past the batch, and the questions' batch short of full
            if not result.more and yellow + red < questions.BATCH:
                break
    return total

"""What a submission and a review send to the database: few statements, and on PostgreSQL the
row-level security settings answered with the first statement and a flush's inserts sent
together (psycopg's pipeline mode). A concurrent change and a duplicate key are still a 409,
and the connection is usable afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from core.cases.access import get_case
from core.cases.actions import ActionIn, perform
from core.cases.service import commit, submit_case
from core.cases.trail import Actor, append_event, chained_event, verify_chain
from core.db import Database
from core.db._session import GovhallSession
from core.errors import Conflict
from core.notify.outbox import OutboxMessage
from tests.cases.conftest import Desk

ZHANG = "13800000001"
ITEM = "HC-SB04"  # two materials, the short process (accept, review, approve)
PIPE = "govhall.pipeline"  # core/db/_session.py: the pipeline open on a connection


@contextmanager
def sent(db: Database) -> Iterator[list[tuple[str, str | None]]]:
    """The statements sent, each with the mode of the pipeline it went into (None: none)."""
    seen: list[tuple[str, str | None]] = []

    def log(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        held = conn.info.get(PIPE)
        seen.append((" ".join(statement.split()), held[2] if held else None))

    # the scope settings are sent by the driver itself, past SQLAlchemy (core/db/_session.py)
    import psycopg

    driver_execute = psycopg.Connection.execute

    def direct(conn: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        piped = conn._pipeline is not None  # the driver's own state, observed
        seen.append((" ".join(str(query).split()), "begin" if piped else None))
        return driver_execute(conn, query, *args, **kwargs)

    event.listen(db.engine, "before_cursor_execute", log)
    psycopg.Connection.execute = direct  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", log)
        psycopg.Connection.execute = driver_execute  # type: ignore[method-assign]


@contextmanager
def flushes() -> Iterator[list[int]]:
    """How many rows each flush that wrote something had to write."""
    seen: list[int] = []

    def count(session: Any, _context: Any) -> None:
        rows = len(session.new) + len(session.dirty) + len(session.deleted)
        if rows:
            seen.append(rows)

    event.listen(GovhallSession, "after_flush", count)
    try:
        yield seen
    finally:
        event.remove(GovhallSession, "after_flush", count)


def _submit_and_review(hechi: Desk) -> tuple[list[Any], list[Any]]:
    citizen = hechi.citizen(ZHANG)
    clerk, reviewer = hechi.staff("hechi-clerk"), hechi.staff("hechi-reviewer")
    number = hechi.apply(citizen, ITEM, submit=False)
    with sent(hechi.db) as submitted, hechi.session() as s:
        submit_case(s, hechi.tenant, citizen, number)
        commit(s)
    hechi.act(clerk, number, "accept")
    with sent(hechi.db) as reviewed, hechi.session() as s:
        perform(s, hechi.tenant, reviewer, number, ActionIn(action="review"))
        commit(s)
    return submitted, reviewed


def test_a_submission_sends_seven_statements_and_a_review_seven(hechi: Desk, backend: str) -> None:
    _submit_and_review(hechi)  # the per-process memo (staff, units, calendar) filled
    submitted, reviewed = _submit_and_review(hechi)
    settings = 1 if backend == "postgres" else 0
    # the settings (PostgreSQL), the locked case read with which materials it holds, the case
    # update, four inserts (step, trail event, notice, both texts in one)
    assert len(submitted) == settings + 6, submitted
    assert not any(s.startswith("SELECT case_materials.") for s, _ in submitted)
    # the settings, the locked case read with its steps (and whether it was ever suspended)
    # in one statement, the case update, the trail event, the step closed, the next opened,
    # the text to its staff; who reviewed it is read only for a decision (审批分离)
    assert len(reviewed) == settings + 6, reviewed
    assert not any(s.startswith("SELECT case_tasks.") for s, _ in reviewed)
    assert not any(s.startswith("SELECT case_suspensions.") for s, _ in reviewed)
    assert not any(s.startswith("SELECT case_events.id") for s, _ in reviewed)
    if backend != "postgres":
        assert all(mode is None for _, mode in submitted + reviewed)
        return
    for statements in (submitted, reviewed):
        assert statements[0][0].startswith("SELECT set_config(") and statements[0][1] == "begin"
        assert statements[1][1] == "begin"  # the settings answered with the case
        inserts = [mode for s, mode in statements if s.startswith("INSERT")]
        assert inserts and all(mode == "flush" for mode in inserts)


def test_a_review_flushes_once_with_the_text_to_the_next_staff(hechi: Desk) -> None:
    """The text to the staff whose step opened goes out with the step (the action's own
    flush), not in a second flush at commit."""
    reviewer = hechi.staff("hechi-reviewer")
    number = hechi.apply(hechi.citizen(ZHANG), ITEM)
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    with flushes() as flushed, hechi.session() as s:
        case = perform(s, hechi.tenant, reviewer, number, ActionIn(action="review"))
        texts = [o for o in s.new if isinstance(o, OutboxMessage) and o.template == "task_assigned"]
        commit(s)
    assert len(flushed) == 1, flushed  # the case, its trail, both steps and the text
    assert not texts  # written by the action's flush already
    with hechi.session() as s:
        sent_to = s.scalars(
            select(OutboxMessage.params).where(
                OutboxMessage.case_id == case.id, OutboxMessage.template == "task_assigned"
            )
        ).all()
    assert any(p["step"] == "审批" for p in sent_to), sent_to


def test_a_concurrent_change_is_still_a_conflict_through_the_pipeline(hechi: Desk) -> None:
    clerk = hechi.staff("hechi-clerk")
    number = hechi.apply(hechi.citizen(ZHANG), ITEM)
    with hechi.session() as first:
        case = get_case(first, number, clerk)  # read (not locked) before the other writes
        with hechi.session() as second:
            other = get_case(second, number, clerk, lock=True)
            append_event(second, other, Actor.of(clerk), "comment", from_state="submitted")
            commit(second)
        append_event(first, case, Actor.of(clerk), "comment", from_state="submitted")
        with pytest.raises(Conflict):
            commit(first)  # the versioned update matched no row: a 409, not a lost update
    hechi.act(clerk, number, "accept")  # the connections are fine afterwards
    with hechi.session() as s:
        assert verify_chain(s, get_case(s, number, clerk)).intact


def test_a_duplicate_among_the_inserts_sent_together_is_a_conflict(hechi: Desk) -> None:
    clerk = hechi.staff("hechi-clerk")
    number = hechi.apply(hechi.citizen(ZHANG), ITEM)
    with hechi.session() as s:
        case = get_case(s, number, clerk, lock=True)
        # an event taking the place of the case's last one: inserts only, the case unchanged
        again = chained_event(
            case.tenant_id,
            case.id,
            case.event_count,
            "0" * 64,
            Actor.of(clerk),
            "comment",
            from_state="submitted",
            to_state="submitted",
        )
        s.add(again)
        with pytest.raises(Conflict):
            commit(s)
    hechi.act(clerk, number, "accept")
    with hechi.session() as s:
        assert verify_chain(s, get_case(s, number, clerk)).intact

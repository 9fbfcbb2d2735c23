"""What the deadline sweep writes set-wise (a statement per table; on PostgreSQL each
table's rows travel as one JSON document) reads back as the ORM would have written it: every
case's trail verifies with the sweep's events in it, the case's head is the last of them,
the reminders' phones decrypt and their other columns take the model's defaults; a write that
fails fails the whole batch; and two sweeps at once never card a step twice."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.cases.models import Case, CaseEvent, CaseTask, TaskState
from core.cases.trail import verify_chain
from core.notify.outbox import OutboxMessage
from core.supervision import sweep
from core.supervision.models import Card
from core.supervision.sweep import run_sweep, sweep_tenant
from tests.cases.conftest import Desk, at

ZHANG = "13800000001"
CLERK_PHONE, SUPERVISOR_PHONE = "13800000113", "13800000141"


def _open_task(hechi: Desk, number: str) -> CaseTask:
    case = hechi.case(number)
    with hechi.session() as s:
        task = s.scalars(
            select(CaseTask).where(CaseTask.case_id == case.id, CaseTask.state == TaskState.open)
        ).one()
        s.expunge(task)
        return task


def test_yellow_then_red_in_batches_keeps_every_chain_and_the_heads(
    hechi: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep, "BATCH", 2)  # five cases: three batches a sweep
    at("2026-11-02")
    numbers = [hechi.apply(hechi.citizen(ZHANG), "HC-SB04") for _ in range(5)]
    due = _open_task(hechi, numbers[0]).due_on
    assert due is not None
    at(due.isoformat())  # the last day: yellow
    run_sweep(hechi.db)
    at("2026-12-20")  # weeks past it: red, chained after the yellow card's event
    run_sweep(hechi.db)
    run_sweep(hechi.db)  # nothing again
    with hechi.session() as s:
        for number in numbers:
            case = s.scalar(select(Case).where(Case.number == number))
            assert case is not None
            task = s.scalars(
                select(CaseTask).where(
                    CaseTask.case_id == case.id, CaseTask.state == TaskState.open
                )
            ).one()
            assert task.card == "red"
            report = verify_chain(s, case)
            assert report.intact, report
            events = s.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
            ).all()
            assert [e.action for e in events[-2:]] == ["yellow_card", "red_card"]
            assert (case.event_count, case.last_hash) == (events[-1].seq, events[-1].hash)
            assert events[-1].data == {"due_on": task.due_on.isoformat()}
            assert events[-1].at.tzinfo is not None and events[-1].reason == ""
            cards = s.scalars(select(Card).where(Card.case_id == case.id).order_by(Card.at))
            assert [(c.colour, c.task_id, c.due_on) for c in cards] == [
                ("yellow", task.id, task.due_on),
                ("red", task.id, task.due_on),
            ]
            texts = s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.case_id == case.id, OutboxMessage.template.like("card_%")
                )
            ).all()
            assert sorted((t.template, t.phone) for t in texts) == sorted(
                (f"card_{colour}", phone)
                for colour in ("yellow", "red")
                for phone in (CLERK_PHONE, SUPERVISOR_PHONE)
            )
            for t in texts:  # the model's defaults, as enqueue_sms would have left them
                assert (t.channel, t.state, t.attempts, t.vendor, t.sent_at) == (
                    "sms",
                    "created",
                    0,
                    None,
                    None,
                )
                assert t.next_attempt_at is not None and t.created_at is not None
                assert t.params == {
                    "number": number,
                    "item": case.item_name,
                    "step": task.name,
                    "due_on": f"{task.due_on:%m月%d日}",
                }


def test_two_sweeps_at_once_card_each_step_once(hechi: Desk, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("SQLite has one writer at a time: there are no two sweeps at once")
    at("2026-11-02")
    numbers = [hechi.apply(hechi.citizen(ZHANG), "HC-SB04") for _ in range(3)]
    ids = [hechi.case(n).id for n in numbers]
    at("2026-12-20")
    today = date(2026, 12, 20)
    second_done = threading.Event()
    seen: dict[str, int] = {}

    def second() -> None:
        # while the first sweep holds its rows, the second passes them by without waiting
        with hechi.session() as s:
            seen["second"] = sweep_tenant(s, hechi.tenant, today).red
            s.commit()
        second_done.set()

    with hechi.session() as s:
        seen["first"] = sweep_tenant(s, hechi.tenant, today).red
        worker = threading.Thread(target=second)
        worker.start()
        assert second_done.wait(30), "the second sweep waited for the first one's locks"
        s.commit()
    worker.join()
    assert seen["first"] >= 3 and seen["second"] == 0
    with hechi.session() as s:
        cards = s.scalar(select(func.count()).select_from(Card).where(Card.case_id.in_(ids)))
        assert cards == 3
        for case_id in ids:
            case = s.get(Case, (hechi.tenant.id, case_id))
            assert case is not None and verify_chain(s, case).intact


def test_a_failed_write_fails_the_batch_and_leaves_nothing_written(
    hechi: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the batch's statements go out in one pipeline and their answers are
    waited for at its end: a statement that fails there still raises as SQLAlchemy raises a
    driver's error (an ``IntegrityError``), the transaction is rolled back with every table's
    rows, and the next sweep, on a connection out of pipeline mode, cards the steps."""
    at("2026-11-02")
    numbers = [hechi.apply(hechi.citizen(ZHANG), "HC-SB04") for _ in range(2)]
    at("2026-12-20")
    cards = sweep._cards

    def a_card_for_no_case(tasks: list[Any], colours: list[str]) -> list[dict[str, Any]]:
        rows = cards(tasks, colours)
        rows[-1]["case_id"] = uuid.uuid4()  # the register's key on cases refuses it
        return rows

    monkeypatch.setattr(sweep, "_cards", a_card_for_no_case)
    with pytest.raises(IntegrityError):
        run_sweep(hechi.db)
    ids = [hechi.case(n).id for n in numbers]
    with hechi.session() as s:
        assert s.scalar(select(func.count()).select_from(Card).where(Card.case_id.in_(ids))) == 0
        assert not any(s.scalars(select(CaseTask.card).where(CaseTask.case_id.in_(ids))))
        for case_id in ids:
            case = s.get(Case, (hechi.tenant.id, case_id))
            assert case is not None and verify_chain(s, case).intact
            assert not s.scalars(
                select(CaseEvent.id).where(
                    CaseEvent.case_id == case_id, CaseEvent.action.like("%_card")
                )
            ).all()
    monkeypatch.setattr(sweep, "_cards", cards)
    assert run_sweep(hechi.db).red >= 2
    with hechi.session() as s:
        assert s.scalar(select(func.count()).select_from(Card).where(Card.case_id.in_(ids))) == 2
        for case_id in ids:
            case = s.get(Case, (hechi.tenant.id, case_id))
            assert case is not None and verify_chain(s, case).intact


def test_a_batch_reads_one_step_more_so_the_run_ends_without_an_empty_batch(
    hechi: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four steps turning red in batches of two: two batches, the first locking one step past
    its two to know that more are due, and no third batch that finds nothing."""
    monkeypatch.setattr(sweep, "BATCH", 2)
    at("2026-11-02")
    numbers = [hechi.apply(hechi.citizen(ZHANG), "HC-SB04") for _ in range(4)]
    due = _open_task(hechi, numbers[0]).due_on
    assert due is not None
    at(due.isoformat())
    assert run_sweep(hechi.db).yellow == 4
    at("2026-12-20")
    batches: list[tuple[int, int]] = []
    one_batch = sweep.sweep_tenant

    def counted(*args: Any, **kwargs: Any) -> sweep.SweepResult:
        result = one_batch(*args, **kwargs)
        batches.append((result.red, result.more))
        return result

    monkeypatch.setattr(sweep, "sweep_tenant", counted)
    assert run_sweep(hechi.db).red == 4
    assert batches == [(2, True), (2, False)]

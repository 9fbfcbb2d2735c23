"""Electronic supervision: the deadline sweep raises a yellow card, then a red one, exactly
once each, with reminders to the step's holders and the supervisors; 视为准予 only where the
definition says so; the outbox relay sends each message once, fails over and backs off."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.calendar import calendar_for
from core.cases.models import CaseEvent, CaseTask, TaskState
from core.cases.trail import verify_chain
from core.db import PLATFORM, utcnow
from core.notify import SendResult
from core.notify.outbox import OutboxMessage
from core.notify.relay import BACKOFF, deliver
from core.plugins import PluginMeta, get_plugin_manager, hookimpl
from core.supervision.models import Card
from core.supervision.sweep import run_sweep
from tests.cases.conftest import Desk, at

ZHANG = "13800000001"
CLERK_PHONE, SUPERVISOR_PHONE, REVIEWER_PHONE = "13800000113", "13800000141", "13800000120"


def _open_task(hechi: Desk, number: str) -> CaseTask:
    case = hechi.case(number)
    with hechi.session() as s:
        return s.scalars(
            select(CaseTask).where(CaseTask.case_id == case.id, CaseTask.state == TaskState.open)
        ).one()


def _card_sms(hechi: Desk, number: str) -> list[tuple[str, str]]:
    case = hechi.case(number)
    with hechi.session() as s:
        rows = s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case.id, OutboxMessage.template.like("card_%"))
            .order_by(OutboxMessage.created_at)
        ).all()
        return sorted((r.template, r.phone) for r in rows)


def test_a_case_left_alone_turns_yellow_then_red_once_each_with_reminders(hechi: Desk) -> None:
    at("2026-11-02")  # a Monday
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SB04")
    task = _open_task(hechi, number)
    with hechi.session() as s:
        calendar = calendar_for(s, hechi.tenant)
    assert task.due_on is not None
    day_before = task.due_on - timedelta(days=1)
    while not calendar.is_workday(day_before):
        day_before -= timedelta(days=1)
    after = task.due_on + timedelta(days=1)
    while not calendar.is_workday(after):
        after += timedelta(days=1)

    # more than one working day left: nothing
    if day_before > task.started_on:
        at(day_before.isoformat())
        run_sweep(hechi.db)
        assert _open_task(hechi, number).card is None
    # on the last day: yellow, once
    at(task.due_on.isoformat())
    run_sweep(hechi.db)
    run_sweep(hechi.db)
    assert _open_task(hechi, number).card == "yellow"
    # past it: red, once
    at(after.isoformat())
    run_sweep(hechi.db)
    at((after + timedelta(days=7)).isoformat())
    run_sweep(hechi.db)
    assert _open_task(hechi, number).card == "red"

    case = hechi.case(number)
    with hechi.session() as s:
        cards = s.scalars(select(Card).where(Card.case_id == case.id).order_by(Card.at)).all()
        events = [
            e.action
            for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
            if e.action.endswith("_card")
        ]
        assert verify_chain(s, case).intact
    assert [(c.colour, c.source, c.step_name) for c in cards] == [
        ("yellow", "sweep", task.name),
        ("red", "sweep", task.name),
    ]
    assert sorted(events) == ["red_card", "yellow_card"]
    # the clerk who holds the acceptance step and the supervisor, for each card; not the
    # reviewer, who does not hold it
    assert _card_sms(hechi, number) == sorted(
        [
            ("card_yellow", CLERK_PHONE),
            ("card_yellow", SUPERVISOR_PHONE),
            ("card_red", CLERK_PHONE),
            ("card_red", SUPERVISOR_PHONE),
        ]
    )
    # acting on it still works, and the next step starts without a card
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    assert _open_task(hechi, number).card is None


def test_deemed_approval_only_where_the_definition_turns_it_on(hechi: Desk) -> None:
    from core.catalog import create_item
    from core.workflow import save_definition

    at("2026-11-02")
    steps = [
        {
            "code": "accept",
            "name": "受理",
            "role": "window_clerk",
            "days": 1,
            "actions": ["accept", "request_correction", "refuse"],
            "next": ["approve"],
        },
        {
            "code": "approve",
            "name": "审批",
            "role": "approver",
            "days": 2,
            "actions": ["approve", "deny"],
        },
    ]
    codes = {}
    for deemed in (True, False):
        code = "DEEM-" + uuid.uuid4().hex[:6]
        with hechi.session() as s:
            save_definition(
                s,
                hechi.tenant,
                {
                    "code": f"deemed_{deemed}".lower(),
                    "name": "逾期视为准予" if deemed else "普通审批",
                    "start": "accept",
                    "deemed_approval": deemed,
                    "steps": steps,
                },
            )
            create_item(
                s,
                hechi.tenant,
                code=code,
                publish=True,
                content={
                    "name": "视为准予示例" if deemed else "普通审批示例",
                    "category": "xzxk",
                    "department": "HC-RSJ",
                    "process": f"deemed_{deemed}".lower(),
                    "materials": [{"name": "申请书"}],
                },
            )
            s.commit()
        codes[deemed] = hechi.apply(hechi.citizen(ZHANG), code)
        hechi.act(hechi.staff("hechi-clerk"), codes[deemed], "accept")
    at("2026-11-20")  # long past the two working days of approval
    run_sweep(hechi.db)
    deemed, ordinary = hechi.case(codes[True]), hechi.case(codes[False])
    assert deemed.state.value == "completed" and deemed.decision == "approved"
    assert ordinary.state.value == "in_progress"
    with hechi.session() as s:
        last = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == deemed.id, CaseEvent.action == "approve")
        ).one()
    assert last.actor_kind == "system" and "视为准予" in last.reason


class Vendors:
    """Two vendors: the preferred one fails while ``down`` is set, the other never answers."""

    meta = PluginMeta(name="test_vendors", version="1.0", title="测试短信")

    def __init__(self) -> None:
        self.down, self.sent = True, list[str]()
        outer = self

        class Preferred:
            name, priority = "preferred", 10

            def send(self, message):
                if outer.down:
                    raise ConnectionError("gateway timeout")
                outer.sent.append(message.id)
                return SendResult(ok=True, vendor_ref="P-" + message.id[:8])

        class Broken:
            name, priority = "broken", 5

            def send(self, message):
                return SendResult(ok=False, error="余额不足")

        self.vendors = [Preferred(), Broken()]

    @hookimpl
    def register_sms_vendors(self, config):
        return self.vendors


@pytest.fixture
def vendors(hechi: Desk):
    manager, plugin = get_plugin_manager(), Vendors()
    manager.register(plugin)
    with hechi.session() as s:
        manager.set_enabled(s, hechi.tenant, "test_vendors", True)
        manager.set_enabled(s, hechi.tenant, "sms_console", False)
        s.commit()
    yield plugin
    with hechi.session() as s:
        manager.set_enabled(s, hechi.tenant, "test_vendors", False)
        manager.set_enabled(s, hechi.tenant, "sms_console", True)
        s.commit()
    manager.unregister("test_vendors")


def test_the_relay_retries_with_backoff_fails_over_and_sends_once(hechi: Desk, vendors) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SB04")
    case = hechi.case(number)
    with hechi.session() as s:
        row = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case.id, OutboxMessage.template == "case_received"
            )
        ).one()
        message_id = row.id
    now = utcnow()

    def attempt(when) -> str:
        with hechi.db.session(scope=PLATFORM) as s:
            outcome = deliver(s, message_id, now=when)
            s.commit()
        return outcome

    def state() -> OutboxMessage:
        with hechi.db.session(scope=PLATFORM) as s:
            return s.get(OutboxMessage, (hechi.tenant.id, message_id))

    assert attempt(now) == "retry"  # both vendors fail: it waits
    first = state()
    assert first.state == "created" and first.attempts == 1
    assert "gateway timeout" in first.error and "余额不足" in first.error
    assert first.next_attempt_at >= now + timedelta(seconds=BACKOFF[0] - 1)
    assert attempt(now) == "skipped"  # not due yet: nothing is tried
    vendors.down = False
    later = now + timedelta(seconds=BACKOFF[0] + 1)
    assert attempt(later) == "sent"
    sent = state()
    assert (sent.state, sent.vendor, sent.attempts) == ("sent", "preferred", 2)
    assert attempt(later + timedelta(hours=1)) == "skipped"  # never twice
    assert vendors.sent == [str(message_id)]  # our id is the vendor reference


def test_a_message_nobody_can_send_fails_for_good_after_the_last_retry(
    hechi: Desk, vendors
) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SB04")
    case = hechi.case(number)
    with hechi.session() as s:
        message_id = s.scalars(
            select(OutboxMessage.id).where(OutboxMessage.case_id == case.id)
        ).first()
    when = utcnow()
    outcomes = []
    for _ in range(len(BACKOFF) + 1):
        with hechi.db.session(scope=PLATFORM) as s:
            outcomes.append(deliver(s, message_id, now=when))
            row = s.get(OutboxMessage, (hechi.tenant.id, message_id))
            when = row.next_attempt_at
            s.commit()
    assert outcomes == ["retry"] * len(BACKOFF) + ["failed"]


def _assigned(hechi: Desk, number: str) -> list[tuple[str, str]]:
    case = hechi.case(number)
    with hechi.session() as s:
        rows = s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case.id, OutboxMessage.template == "task_assigned")
            .order_by(OutboxMessage.created_at)
        ).all()
        return [(m.phone, m.params["step"]) for m in rows]


def test_staff_hear_of_each_step_assigned_to_them_unless_the_county_turns_it_off(
    hechi: Desk,
) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SC03")
    assert _assigned(hechi, number) == [(CLERK_PHONE, "受理")]  # the window clerk, not others
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    told = _assigned(hechi, number)
    assert told[0] == (CLERK_PHONE, "受理") and len(told) == 2
    assert told[1][1] == "审核" and told[1][0] != SUPERVISOR_PHONE
    with hechi.session() as s:
        (params,) = [
            m.params
            for m in s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.case_id == hechi.case(number).id,
                    OutboxMessage.template == "task_assigned",
                    OutboxMessage.params["step"].as_string() == "审核",
                )
            )
        ]
    assert params["due_on"].endswith("日")  # the step's deadline is in the text

    from core.tenancy.models import Tenant

    with hechi.session() as s:
        row = s.get(Tenant, hechi.tenant.id)
        row.settings = {**row.settings, "sms_on_assignment": False}
        s.commit()
    try:
        quiet = hechi.apply(hechi.citizen(ZHANG), "HC-SC03")
        assert _assigned(hechi, quiet) == []
    finally:
        with hechi.session() as s:
            row = s.get(Tenant, hechi.tenant.id)
            row.settings = {k: v for k, v in row.settings.items() if k != "sms_on_assignment"}
            s.commit()


def test_a_one_day_step_is_not_yellow_on_the_day_it_opens(hechi: Desk) -> None:
    """A step due the next working day is within the yellow threshold the moment it opens:
    no card, no 催办 text and no yellow light that day — on the workbench too — and yellow on
    its last day as any other step."""
    from core.cases.queue import card_colour

    at("2026-11-02", 9)  # a Monday
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SB04")
    task = _open_task(hechi, number)
    assert task.started_on.isoformat() == "2026-11-02"
    with hechi.session() as s:  # a one-day step: due on Tuesday
        s.get(CaseTask, (task.tenant_id, task.id)).due_on = task.started_on + timedelta(days=1)
        s.commit()
        calendar = calendar_for(s, hechi.tenant)
    task = _open_task(hechi, number)

    run_sweep(hechi.db)
    assert _open_task(hechi, number).card is None
    assert _card_sms(hechi, number) == []
    today = task.started_on
    assert card_colour(task.due_on, today, calendar, task.started_on) == "green"
    assert card_colour(task.due_on, today, calendar) == "yellow"  # the old reading

    at("2026-11-03", 8)  # its last day
    run_sweep(hechi.db)
    assert _open_task(hechi, number).card == "yellow"
    assert ("card_yellow", SUPERVISOR_PHONE) in _card_sms(hechi, number)
    tuesday = task.started_on + timedelta(days=1)
    assert card_colour(task.due_on, tuesday, calendar, task.started_on) == "yellow"

"""A sweep that flips several overdue cases in one batch (written set-wise: a statement per
table) gives each its red card once, keeps each case's trail verifiable, texts the step's
holders and the supervisors at once, and tells the departments' systems of each card."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.cases.models import CaseTask, TaskState
from core.cases.trail import verify_chain
from core.notify.outbox import OutboxMessage, set_dispatcher
from core.plugins import PluginMeta, get_plugin_manager, hookimpl
from core.supervision.models import Card
from core.supervision.sweep import run_sweep
from tests.cases.conftest import Desk, at

ZHANG = "13800000001"
CLERK_PHONE, SUPERVISOR_PHONE = "13800000113", "13800000141"


class DepartmentSystem:
    """A department's own approval system that wants every case event."""

    meta = PluginMeta(name="card_listener", version="1.0", title="部门审批系统")

    @hookimpl
    def forward_case_event(self, event: dict[str, Any]) -> list[dict[str, str]]:
        return []


def test_a_batch_of_overdue_cases_each_get_one_red_card_an_intact_trail_and_reminders(
    hechi: Desk,
) -> None:
    at("2026-11-02")
    numbers = [hechi.apply(hechi.citizen(ZHANG), "HC-SB04") for _ in range(3)]
    manager = get_plugin_manager()
    manager.register(DepartmentSystem())
    handed: list[Any] = []
    with hechi.session() as s:
        manager.set_enabled(s, hechi.tenant, "card_listener", True, {})
        s.commit()
    set_dispatcher(handed.extend)
    try:
        at("2026-12-20")  # weeks past every acceptance step's limit
        run_sweep(hechi.db)
        run_sweep(hechi.db)  # a second sweep flips nothing again
        with hechi.session() as s:
            for number in numbers:
                case = hechi.case(number)  # its head as the sweep left it
                task = s.scalars(
                    select(CaseTask).where(
                        CaseTask.case_id == case.id, CaseTask.state == TaskState.open
                    )
                ).one()
                assert task.card == "red"
                cards = s.scalars(select(Card).where(Card.case_id == case.id)).all()
                assert [(c.colour, c.step_name, c.task_id) for c in cards] == [
                    ("red", task.name, task.id)
                ]
                report = verify_chain(s, case)
                assert report.intact, report
                texts = s.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.case_id == case.id, OutboxMessage.template == "card_red"
                    )
                ).all()
                assert sorted(t.phone for t in texts) == sorted([CLERK_PHONE, SUPERVISOR_PHONE])
                assert all(t.params["number"] == case.number for t in texts)
                # handed to the workers at the commit, not left to the relay's sweep
                assert {t.id for t in texts} <= set(handed)
                forwarded = s.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.case_id == case.id,
                        OutboxMessage.channel == "event",
                        OutboxMessage.template == "red_card",
                    )
                ).all()
                assert len(forwarded) == 1
                assert forwarded[0].params["payload"]["case"] == case.number
    finally:
        from workers.actors import _dispatch

        set_dispatcher(_dispatch)
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "card_listener", False, {})
            s.commit()
        manager.unregister("card_listener")

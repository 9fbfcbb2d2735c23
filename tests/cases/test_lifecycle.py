"""The case lifecycle below the API: the working-day clock across the National Day holiday,
suspension and extension; concurrent staff actions; agents and levels; fees; refusal,
denial, withdrawal, return; courier delivery through the hook; the trail command."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from core.cases.access import get_case
from core.cases.actions import ActionIn, perform
from core.cases.models import CaseEvent, CasePayment, CaseTask, Notice, TaskState
from core.cases.service import (
    Applicant,
    Consent,
    commit,
    correct_case,
    withdraw_case,
)
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.plugins import PluginMeta, get_plugin_manager, hookimpl
from core.supervision.ratings import rate_case
from tests.cases.conftest import Desk, at

ZHANG, LI = "13800000001", "13800000008"


def test_deadlines_skip_the_national_day_holiday_and_move_by_the_suspended_days(
    hechi: Desk,
) -> None:
    citizen = hechi.citizen(ZHANG)
    clerk, reviewer = hechi.staff("hechi-clerk"), hechi.staff("hechi-reviewer")
    approver = hechi.staff("hechi-approver")
    at("2026-09-28")
    number = hechi.apply(citizen, "HC-SC03")  # promised 10, legal 20 working days
    at("2026-09-29")  # Tuesday; 1–7 October are the National Day holiday, 10 October is worked
    hechi.act(clerk, number, "accept")
    case = hechi.case(number)
    # 30 Sep (1), 8 (2), 9 (3), Sat 10 (4), 12–16 (5–9), 19 Oct (10): not 9 October
    assert case.accepted_on == date(2026, 9, 29) and case.due_on == date(2026, 10, 19)

    at("2026-10-09")
    hechi.act(reviewer, number, "review")
    with hechi.session() as s:
        approve = s.scalar(
            select(CaseTask).where(CaseTask.step == "approve", CaseTask.case_id == case.id)
        )
        assert approve.due_on == date(2026, 10, 12)  # Sat 10 (1), Mon 12 (2)

    at("2026-10-12")  # a hearing: 12, 13 and 14 October are suspended
    hechi.act(approver, number, "suspend", kind="hearing", reason="举行听证", days=5)
    suspended = hechi.case(number)
    assert suspended.state.value == "suspended" and suspended.due_on is None
    with pytest.raises(Conflict):  # nothing moves while the clock stands still
        hechi.act(approver, number, "approve")

    at("2026-10-15")
    hechi.act(approver, number, "resume", reason="听证结束")
    resumed = hechi.case(number)
    assert resumed.due_on == date(2026, 10, 22)  # exactly three working days later
    with hechi.session() as s:
        task = s.scalar(
            select(CaseTask).where(CaseTask.step == "approve", CaseTask.case_id == case.id)
        )
        assert task.due_on == date(2026, 10, 15)  # Sat 10 (1), Thu 15 (2)
        event = s.scalar(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "resume")
        )
        assert event.data["suspended_working_days"] == 3

    # an extension needs a reason and stays within the limit
    with pytest.raises(InvalidInput) as missing:
        hechi.act(approver, number, "extend", days=2)
    assert missing.value.field == "reason"
    assert "“其他操作”中填写延长时限的理由" in missing.value.detail
    with pytest.raises(InvalidInput):
        hechi.act(approver, number, "extend", days=11, reason="情况复杂")
    with pytest.raises(Forbidden):
        hechi.act(clerk, number, "extend", days=2, reason="情况复杂")
    hechi.act(approver, number, "extend", days=2, reason="需补充现场核查")
    assert hechi.case(number).due_on == date(2026, 10, 26)  # Fri 23 (1), Mon 26 (2)


def test_a_suspension_begun_on_the_acceptance_day_records_what_the_clock_skipped(
    hechi: Desk,
) -> None:
    citizen = hechi.citizen(ZHANG)
    clerk, reviewer = hechi.staff("hechi-clerk"), hechi.staff("hechi-reviewer")
    at("2026-09-28")
    number = hechi.apply(citizen, "HC-SC03")
    at("2026-09-29")
    hechi.act(clerk, number, "accept")
    assert hechi.case(number).due_on == date(2026, 10, 19)
    hechi.act(reviewer, number, "suspend", kind="inspection", reason="现场检测", days=10)
    at("2026-10-09")  # the clock stood still on 29 Sep … 8 Oct: of those, 30 Sep and 8 Oct
    hechi.act(reviewer, number, "resume", reason="检测完毕")  # count (29 Sep starts the clock)
    assert hechi.case(number).due_on == date(2026, 10, 21)  # two working days later
    with hechi.session() as s:
        event = s.scalar(
            select(CaseEvent).where(
                CaseEvent.case_id == hechi.case(number).id, CaseEvent.action == "resume"
            )
        )
        assert event.data["suspended_working_days"] == 2


def test_two_staff_acting_on_the_same_step_at_once_one_gets_a_conflict(hechi: Desk) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SC03")
    clerk = hechi.staff("hechi-clerk")
    barrier, results = threading.Barrier(2), []

    def worker(payload: ActionIn) -> None:
        with hechi.session() as s:
            try:
                get_case(s, number, clerk)  # both have read the case ...
                barrier.wait(timeout=10)  # ... before either acts
                perform(s, hechi.tenant, clerk, number, payload)
                commit(s)
                results.append(payload.action)
            except Conflict:
                results.append("conflict")

    threads = [
        threading.Thread(target=worker, args=(ActionIn(action="accept"),)),
        threading.Thread(target=worker, args=(ActionIn(action="refuse", reason="材料虚假"),)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) in (["accept", "conflict"], ["conflict", "refuse"])
    winner = next(r for r in results if r != "conflict")
    assert hechi.case(number).state.value == {"accept": "in_progress", "refuse": "refused"}[winner]


def test_an_agent_applies_for_a_villager_and_the_case_travels_up_the_levels(
    hechi: Desk,
) -> None:
    agent = hechi.staff("hechi-agent")
    number = hechi.apply(
        agent,
        "HC-MZ05",
        applicant=Applicant(phone="13900000077", name="覃奶奶", id_number=None),
        consent=Consent(method="signed_form", note="本人签字授权书已留存"),
    )
    case = hechi.case(number)
    assert case.channel == "agent" and case.agent_name == "黄村级代办员"
    assert case.consent == {"method": "signed_form", "note": "本人签字授权书已留存"}
    with hechi.session() as s:
        open_steps = [
            t.step
            for t in s.scalars(
                select(CaseTask).where(
                    CaseTask.case_id == case.id, CaseTask.state == TaskState.open
                )
            )
        ]
    assert open_steps == ["township"]  # the agent's own collection is done by submitting
    # the county window neither works the township's step nor sees the case while the
    # township has it (core/cases/access.py: staff see the cases of their units)
    with pytest.raises(NotFound):
        hechi.act(hechi.staff("hechi-clerk"), number, "forward")
    hechi.act(hechi.staff("hechi-township"), number, "forward")
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    done = hechi.act(hechi.staff("hechi-approver"), number, "approve")
    assert done.state.value == "completed" and done.decision == "approved"
    # the villager now has an account and sees the case as theirs
    villager = hechi.citizen("13900000077")
    from core.cases.queries import list_cases

    with hechi.session() as s:
        assert number in [c.number for c in list_cases(s, villager).cases]


def test_fees_block_the_certificate_until_paid_and_are_refunded_on_denial(hechi: Desk) -> None:
    citizen = hechi.citizen(LI)
    clerk, issuer = hechi.staff("hechi-clerk"), hechi.staff("hechi-issuer")
    reviewer, approver = hechi.staff("hechi-reviewer"), hechi.staff("hechi-approver")
    counter: dict[str, Any] = {
        "applicant": Applicant(phone=LI, name="李娜"),
        "consent": Consent(method="in_person"),
    }
    number = hechi.apply(clerk, "HC-ZR01", **counter)  # 100 yuan, at the counter only
    assert hechi.case(number).channel == "counter" and hechi.case(number).applicant_id == citizen.id
    accepted = hechi.act(clerk, number, "accept")
    assert accepted.fee_status.value == "unpaid" and accepted.fee_total == "100.00"
    hechi.act(reviewer, number, "review")
    hechi.act(approver, number, "approve")
    with pytest.raises(Conflict) as unpaid:
        hechi.act(issuer, number, "issue")
    assert "以费控证" in unpaid.value.detail
    with pytest.raises(InvalidInput):
        hechi.act(clerk, number, "pay", amount="50")
    with pytest.raises(Forbidden):
        hechi.act(issuer, number, "pay", amount="100")
    hechi.act(clerk, number, "pay", amount="100", reference="POS-0001")
    issued = hechi.act(issuer, number, "issue")
    assert issued.state.value == "completed" and issued.fee_status.value == "paid"

    # a paid case that is denied is refunded
    second = hechi.apply(clerk, "HC-ZR01", **counter)
    hechi.act(clerk, second, "accept")
    with pytest.raises(Conflict) as reused:  # one receipt pays one case
        hechi.act(clerk, second, "pay", amount="100.00", reference="POS-0001")
    assert reused.value.field == "reference" and number in reused.value.detail
    assert hechi.case(second).fee_status.value == "unpaid"
    hechi.act(clerk, second, "pay", amount="100.00")
    hechi.act(reviewer, second, "review")
    denied = hechi.act(approver, second, "deny", reason="规划条件不符")
    assert denied.decision == "denied" and denied.fee_status.value == "refunded"
    with hechi.session() as s:
        kinds = [
            p.kind
            for p in s.scalars(
                select(CasePayment).where(CasePayment.case_id == denied.id).order_by(CasePayment.at)
            )
        ]
    assert kinds == ["payment", "refund"]


def test_refuse_withdraw_return_and_rate(hechi: Desk) -> None:
    citizen = hechi.citizen(ZHANG)
    clerk, reviewer = hechi.staff("hechi-clerk"), hechi.staff("hechi-reviewer")
    refused = hechi.apply(citizen, "HC-SC03")
    with pytest.raises(InvalidInput):
        hechi.act(clerk, refused, "refuse")  # a refusal needs its reason
    assert hechi.act(clerk, refused, "refuse", reason="不属于本机关职权").state.value == "refused"
    with pytest.raises(Conflict):
        hechi.act(clerk, refused, "accept")

    returned = hechi.apply(citizen, "HC-SC03")
    hechi.act(clerk, returned, "accept")
    hechi.act(reviewer, returned, "return", reason="请窗口核对原件")
    with hechi.session() as s:
        case = hechi.case(returned)
        steps = [
            (t.step, t.state.value)
            for t in s.scalars(
                select(CaseTask).where(CaseTask.case_id == case.id).order_by(CaseTask.started_at)
            )
        ]
    assert steps[-1] == ("accept", "open")

    with hechi.session() as s:
        withdrawn = withdraw_case(s, hechi.tenant, citizen, returned, "不再需要")
        commit(s)
    assert withdrawn.state.value == "withdrawn"

    rated = hechi.apply(citizen, "HC-SB05")  # 即办
    hechi.act(clerk, rated, "decide")
    with hechi.session() as s:
        with pytest.raises(InvalidInput):
            rate_case(s, hechi.tenant, citizen, rated, 101, "")
        rate_case(s, hechi.tenant, citizen, rated, 100, "当场办结，很满意")
        commit(s)
    with hechi.session() as s, pytest.raises(Conflict):
        rate_case(s, hechi.tenant, citizen, rated, 90, "")
    with hechi.session() as s, pytest.raises(Conflict):
        correct_case(s, hechi.tenant, citizen, rated)


class Courier:
    meta = PluginMeta(name="test_courier", version="1.0", title="测试快递")

    @hookimpl
    def create_shipment(self, tenant, config, shipment):
        assert shipment["reference"].startswith(tenant.division_code)
        return {"carrier": "测试快递", "tracking_number": "SF" + shipment["reference"][-5:]}


def test_courier_delivery_goes_through_the_hook(hechi: Desk) -> None:
    citizen = hechi.citizen(ZHANG)
    number = hechi.apply(citizen, "HC-SC03", delivery="courier", address="河池市金城江区示范路1号")
    clerk = hechi.staff("hechi-clerk")
    hechi.act(clerk, number, "accept")
    hechi.act(hechi.staff("hechi-reviewer"), number, "review")
    hechi.act(hechi.staff("hechi-approver"), number, "approve")
    hechi.act(hechi.staff("hechi-issuer"), number, "issue")
    with pytest.raises(Conflict):  # no courier plugin enabled
        hechi.act(clerk, number, "deliver")
    pm = get_plugin_manager()
    pm.register(Courier())
    try:
        with hechi.session() as s:
            pm.set_enabled(s, hechi.tenant, "test_courier", True)
            s.commit()
        shipped = hechi.act(clerk, number, "deliver")
        assert shipped.state.value == "completed"  # delivered when the carrier says signed
        assert shipped.tracking == {
            "carrier": "测试快递",
            "tracking_number": "SF" + number[-5:],
            "events": [],
        }
    finally:
        with hechi.session() as s:
            pm.set_enabled(s, hechi.tenant, "test_courier", False)
            s.commit()
        pm.unregister("test_courier")


def test_cases_verify_command_reports_a_tampered_trail(hechi: Desk) -> None:
    from web.cli import main

    number = hechi.apply(hechi.citizen(ZHANG), "HC-SB05")
    ok = CliRunner().invoke(main, ["cases", "verify", "--tenant", "hechi", number])
    assert ok.exit_code == 0 and "完整" in ok.output
    case = hechi.case(number)
    with hechi.session() as s:
        s.execute(
            update(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.seq == 2)
            .values(actor_name="别人")
        )
        s.commit()
    bad = CliRunner().invoke(main, ["cases", "verify", "--tenant", "hechi", number])
    assert bad.exit_code == 1 and "第 2 条" in bad.output


def test_parallel_branches_join_only_when_every_department_has_decided(hechi: Desk) -> None:
    from core.catalog import create_item
    from core.workflow import save_definition

    code = "JOINT-" + uuid.uuid4().hex[:6]
    with hechi.session() as s:
        save_definition(
            s,
            hechi.tenant,
            {
                "code": "joint_rsj_scj",
                "name": "人社、市场监管并联审查",
                "start": "accept",
                "steps": [
                    {
                        "code": "accept",
                        "name": "受理",
                        "role": "window_clerk",
                        "days": 1,
                        "actions": ["accept", "request_correction", "refuse"],
                        "next": ["rsj", "scj"],
                    },
                    {
                        "code": "rsj",
                        "name": "人社审查",
                        "role": "reviewer",
                        "days": 3,
                        "department": "HC-RSJ",
                        "actions": ["review", "return"],
                        "next": ["decide"],
                    },
                    {
                        "code": "scj",
                        "name": "市场监管审查",
                        "role": "reviewer",
                        "days": 5,
                        "department": "HC-SCJ",
                        "actions": ["review", "return"],
                        "next": ["decide"],
                    },
                    {
                        "code": "decide",
                        "name": "汇总审批",
                        "role": "approver",
                        "days": 2,
                        "join": True,
                        "actions": ["approve", "deny"],
                    },
                ],
            },
        )
        create_item(
            s,
            hechi.tenant,
            code=code,
            publish=True,
            content={
                "name": "并联审批示例",
                "category": "xzxk",
                "department": "HC-RSJ",
                "process": "joint_rsj_scj",
                "materials": [{"name": "申请书"}],
            },
        )
        s.commit()
    number = hechi.apply(hechi.citizen(ZHANG), code)
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    case = hechi.case(number)

    def open_steps() -> list[str]:
        with hechi.session() as s:
            return sorted(
                t.step
                for t in s.scalars(
                    select(CaseTask).where(
                        CaseTask.case_id == case.id, CaseTask.state == TaskState.open
                    )
                )
            )

    assert open_steps() == ["rsj", "scj"]
    reviewer = hechi.staff("hechi-reviewer")  # a reviewer in both departments must pick one
    with pytest.raises(InvalidInput) as which:
        hechi.act(reviewer, number, "review")
    assert which.value.field == "task"
    with hechi.session() as s:
        tasks = {
            t.step: str(t.id)
            for t in s.scalars(
                select(CaseTask).where(
                    CaseTask.case_id == case.id, CaseTask.state == TaskState.open
                )
            )
        }
    hechi.act(reviewer, number, "review", task=tasks["rsj"])
    assert open_steps() == ["scj"]  # the join waits for the other department
    hechi.act(reviewer, number, "review", task=tasks["scj"])
    assert open_steps() == ["decide"]
    done = hechi.act(hechi.staff("hechi-approver"), number, "approve")
    assert done.state.value == "completed"


def test_a_case_returned_to_the_window_is_sent_on_again(hechi: Desk) -> None:
    """A reviewer's 退回 brings an accepted case back to the window, whose clerk can send it on
    (重新报送) once what was asked is put right — it had been left with nothing anyone could do.
    It stays accepted as it was: the same acceptance day, no second acceptance notice."""
    from core.cases.available import RESEND_LABEL, availability

    citizen = hechi.citizen(ZHANG)
    clerk, reviewer = hechi.staff("hechi-clerk"), hechi.staff("hechi-reviewer")
    number = hechi.apply(citizen, "HC-SC03")
    hechi.act(clerk, number, "accept")
    accepted_on = hechi.case(number).accepted_on
    hechi.act(reviewer, number, "return", reason="请窗口核对原件")
    with hechi.session() as s:
        offered = availability(s, hechi.tenant, hechi.case(number), clerk).work
    labels = {a.code: a.label for a in offered}
    assert labels.get("accept") == RESEND_LABEL and "refuse" not in labels

    case = hechi.act(clerk, number, "accept", reason="已核对原件")
    assert case.state.value == "in_progress" and case.accepted_on == accepted_on
    with hechi.session() as s:
        steps = [
            (t.step, t.state.value, t.outcome)
            for t in s.scalars(
                select(CaseTask).where(CaseTask.case_id == case.id).order_by(CaseTask.started_at)
            )
        ]
        notices = s.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.case_id == case.id, Notice.kind == "acceptance")
        )
    assert steps[-2][2] == "resent" and steps[-1][1] == "open" and steps[-1][0] != "accept"
    assert notices == 1
    hechi.act(reviewer, number, "review", reason="材料齐全")  # and on it goes


def test_a_counter_case_says_so_and_counts_for_the_clerk_who_took_it_in(hechi: Desk) -> None:
    """A citizen served at the window: the notices name the clerk as 窗口经办人 (not a village
    agent), the day's 收件 counts for that clerk (not as an online application), and the
    clerk's list of cases filed for others does not ask the clerk to rate the service."""
    from core.cases.documents import _facts
    from core.cases.mine import next_step
    from core.cases.service import Applicant, Consent
    from core.supervision.facts import live_facts

    at("2026-11-02")
    clerk = hechi.staff("hechi-clerk")
    number = hechi.apply(
        clerk,
        "HC-SB05",  # 即办: decided at once
        applicant=Applicant(phone=ZHANG, name="张伟"),
        consent=Consent(method="in_person"),
    )
    case = hechi.act(clerk, number, "decide")
    assert case.channel == "counter"
    facts = dict(_facts(case))
    assert "代办人" not in facts and "窗口代为录入" in facts["窗口经办人"]
    assert next_step(case)[0] != "为本次服务评价"
    with hechi.session() as s:
        counted = live_facts(s, hechi.tenant, case.submitted_at.date(), case.submitted_at.date())
    taken_in = {k.staff: c.values["received"] for k, c in counted.items() if c.values["received"]}
    assert taken_in.get(str(clerk.id)) == 1 and "" not in taken_in

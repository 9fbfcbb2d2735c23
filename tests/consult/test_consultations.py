"""在线咨询与投诉 in the core: reply limits in working days, the sweep's yellow and red cards with
reminders to the department, answers published as an item's 常见问题 without their asker, a
complaint only about one's own case, who may answer, and the text encrypted at rest."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text

from core.calendar import calendar_for
from core.consult import (
    Consultation,
    answer,
    ask,
    complain,
    get_for_citizen,
    get_for_staff,
    list_for_citizen,
    list_for_staff,
    open_counts,
    public_faq,
    reply_days,
    state_of,
)
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.notify.outbox import OutboxMessage
from core.supervision.sweep import run_sweep
from core.tenancy import Tenant
from tests.cases.conftest import Desk, at

ZHANG, LINA = "13800000001", "13800000008"
SUPERVISOR = "13800000141"
RSJ_STAFF = {"13800000120", "13800000127", "13800000134"}  # 人社局's reviewer, approver, issuer


def _ask(hechi: Desk, phone: str = LINA, item: str = "HC-SB01", subject: str = "退休认证") -> str:
    with hechi.session() as s:
        row = ask(s, hechi.tenant, hechi.citizen(phone), item, subject, "我在外地，能否异地认证？")
        s.commit()
        return row.number


def _row(hechi: Desk, number: str) -> Consultation:
    with hechi.session() as s:
        row = s.scalars(select(Consultation).where(Consultation.number == number)).one()
        s.expunge(row)
        return row


def _sms(hechi: Desk, template: str) -> list[tuple[str, dict]]:
    with hechi.session() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.template == template)).all()
        return [(r.phone, r.params) for r in rows]


def test_the_reply_limit_is_counted_in_working_days_per_kind(hechi: Desk) -> None:
    at("2026-11-05")  # a Thursday: three working days are Friday, Monday and Tuesday
    number = _ask(hechi)
    row = _row(hechi, number)
    assert row.kind == "consult" and row.department_code == "HC-RSJ"
    assert row.due_on == date(2026, 11, 10)
    with hechi.session() as s:
        calendar = calendar_for(s, hechi.tenant)
    assert row.due_on == calendar.add_working_days(date(2026, 11, 5), 3)
    assert state_of(row, date(2026, 11, 10)) == "waiting"
    assert state_of(row, date(2026, 11, 11)) == "overdue"
    # a complaint has five by default; a tenant may set its own
    assert reply_days(hechi.tenant, "complaint") == 5
    assert reply_days(Tenant(settings={"consult_reply_days": {"consult": 2}}), "consult") == 2
    assert reply_days(Tenant(settings={"consult_reply_days": {"consult": "x"}}), "consult") == 3


def test_the_sweep_cards_an_unanswered_question_yellow_then_red_once_each(hechi: Desk) -> None:
    at("2026-11-05")
    number = _ask(hechi, subject="退休认证（监察）")
    at("2026-11-06")  # more than a working day left
    run_sweep(hechi.db)
    assert _row(hechi, number).card is None
    at("2026-11-09")  # the last working day before the limit: yellow, once
    run_sweep(hechi.db)
    run_sweep(hechi.db)
    assert _row(hechi, number).card == "yellow"
    at("2026-11-11")  # past it: red, once
    run_sweep(hechi.db)
    run_sweep(hechi.db)
    assert _row(hechi, number).card == "red"

    for template in ("consult_yellow", "consult_red"):
        sent = [(p, m) for p, m in _sms(hechi, template) if m["number"] == number]
        # once each to the department's staff and the supervisor; not the centre's clerk
        assert sorted(p for p, _ in sent) == sorted(RSJ_STAFF | {SUPERVISOR})
        assert all(m["kind"] == "咨询" and m["due_on"] == "11月10日" for _, m in sent)
    with hechi.session() as s:
        counts = open_counts(s, hechi.tenant, date(2026, 11, 11))
    assert counts["open"] >= 1 and counts["overdue"] >= 1 and counts["red"] >= 1

    # answered: no more cards, and the state says so
    with hechi.session() as s:
        answer(s, hechi.tenant, hechi.staff("hechi-reviewer"), number, "可以，携带身份证。")
        s.commit()
    assert state_of(_row(hechi, number)) == "answered"


def test_a_public_answer_becomes_the_items_faq_without_its_asker(hechi: Desk) -> None:
    at("2026-11-05")
    number = _ask(hechi, subject="李娜问：能否代办")
    private = _ask(hechi, subject="不公开的问题")
    reviewer = hechi.staff("hechi-reviewer")
    with hechi.session() as s:
        answer(
            s,
            hechi.tenant,
            reviewer,
            number,
            "可以委托他人代办，需提供委托书。",
            public=True,
            public_question="能否委托他人代办？",
        )
        answer(s, hechi.tenant, reviewer, private, "已电话联系您。")
        s.commit()
    with hechi.session() as s:
        faqs = public_faq(s, hechi.tenant, "HC-SB01")
        with pytest.raises(Conflict):
            answer(s, hechi.tenant, reviewer, number, "再答一次")
    questions = [f.question for f in faqs]
    assert "能否委托他人代办？" in questions and "不公开的问题" not in questions
    assert all("李娜" not in f.question + f.answer for f in faqs)
    # the asker hears of each answer by SMS
    told = [p for p, m in _sms(hechi, "consult_answered") if m["number"] in (number, private)]
    assert told == [LINA, LINA]
    with hechi.session() as s:
        mine = {r.number for r in list_for_citizen(s, hechi.citizen(LINA))}
    assert {number, private} <= mine


def test_a_complaint_is_only_about_ones_own_case_and_never_public(hechi: Desk) -> None:
    at("2026-11-05")
    case_number = hechi.apply(hechi.citizen(ZHANG), "HC-SB04")
    with hechi.session() as s:
        with pytest.raises(NotFound):
            complain(s, hechi.tenant, hechi.citizen(LINA), case_number, "投诉", "别人的办件")
        row = complain(s, hechi.tenant, hechi.citizen(ZHANG), case_number, "超时", "一直没有受理")
        s.commit()
        number, department = row.number, row.department_code
    row = _row(hechi, number)
    assert row.kind == "complaint" and row.case_number == case_number
    assert department == hechi.case(case_number).department_code
    assert row.due_on == date(2026, 11, 12)  # five working days
    staff = hechi.staff("hechi-admin")
    with hechi.session() as s:
        with pytest.raises(InvalidInput):
            answer(s, hechi.tenant, staff, number, "已核实", public=True)
        answer(s, hechi.tenant, staff, number, "已核实，已督促办理。")
        s.commit()
    # the other citizen cannot read it, the complainant can
    with hechi.session() as s:
        with pytest.raises(NotFound):
            get_for_citizen(s, hechi.citizen(LINA), number)
        assert get_for_citizen(s, hechi.citizen(ZHANG), number).answer == "已核实，已督促办理。"


def test_only_the_departments_staff_answer_and_another_tenant_sees_nothing(hechi: Desk, db) -> None:
    at("2026-11-05")
    number = _ask(hechi, subject="谁来答复")
    with hechi.session() as s:
        # the window clerk of the service centre is not 人社局's: not even shown
        clerk = hechi.staff("hechi-clerk")
        with pytest.raises(NotFound):
            get_for_staff(s, clerk, number)
        assert number not in {r.number for r in list_for_staff(s, clerk)}
        # the reviewer of 人社局 and the admin see it; the supervisor sees but may not answer
        assert number in {r.number for r in list_for_staff(s, hechi.staff("hechi-reviewer"))}
        assert number in {r.number for r in list_for_staff(s, hechi.staff("hechi-admin"))}
        supervisor = hechi.staff("hechi-supervisor")
        assert get_for_staff(s, supervisor, number).number == number
        with pytest.raises(Forbidden):
            answer(s, hechi.tenant, supervisor, number, "监察员不答复")
        # a citizen cannot answer, nor ask as staff
        with pytest.raises(NotFound):
            answer(s, hechi.tenant, hechi.citizen(LINA), number, "自问自答")
        with pytest.raises(Forbidden):
            ask(s, hechi.tenant, clerk, "HC-SB01", "工作人员", "不能咨询")
    bozhou = Desk(db, "bozhou")
    with bozhou.session() as s:
        with pytest.raises(NotFound):
            get_for_staff(s, bozhou.staff("bozhou-admin"), number)
        assert list_for_staff(s, bozhou.staff("bozhou-admin")) == [] or all(
            r.number != number for r in list_for_staff(s, bozhou.staff("bozhou-admin"))
        )


def test_bad_input_is_named_by_its_field(hechi: Desk) -> None:
    lina = hechi.citizen(LINA)
    with hechi.session() as s:
        for item, subject, body, field in (
            ("NO-SUCH", "标题", "内容", "item"),
            ("HC-SB01", " ", "内容", "subject"),
            ("HC-SB01", "标题", "", "text"),
            ("HC-SB01", "长" * 61, "内容", "subject"),
        ):
            with pytest.raises(InvalidInput) as caught:
                ask(s, hechi.tenant, lina, item, subject, body)
            assert caught.value.field == field


def test_what_citizens_write_and_staff_answer_is_encrypted_at_rest(hechi: Desk) -> None:
    at("2026-11-05")
    with hechi.session() as s:
        lina = hechi.citizen(LINA)
        row = ask(s, hechi.tenant, lina, "HC-SB01", "加密", "我的身份证号 450100199001011234")
        s.commit()
        number = row.number
    with hechi.session() as s:
        answer(s, hechi.tenant, hechi.staff("hechi-reviewer"), number, "请致电 13912345678")
        s.commit()
    with hechi.db.engine.begin() as conn:
        if hechi.db.dialect == "postgresql":
            conn.execute(text("SELECT set_config('govhall.platform', 'on', true)"))
        raw = conn.execute(
            text(
                "SELECT text, answer, asker_phone, asker_name FROM consultations WHERE number = :n"
            ),
            {"n": number},
        ).one()
    for value in raw:
        assert value.startswith("enc1:")
    assert "450100199001011234" not in raw[0] and "13912345678" not in raw[1]
    assert "13800000008" not in raw[2] and "李娜" not in raw[3]


def test_the_same_question_sent_twice_is_one_question(hechi: Desk) -> None:
    at("2026-11-05")
    first, second = _ask(hechi, subject="双击"), _ask(hechi, subject="双击")
    assert first == second
    at("2026-11-06")  # the next day it is a new question
    assert _ask(hechi, subject="双击") != first

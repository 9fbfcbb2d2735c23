"""The supervisor's desk and the public statistics: live lists, manual cards, reminders and
notes on the trail; complaints and counter ratings; follow-ups closed with a resolution; and
public figures that match a count made directly from the cases table."""

from __future__ import annotations

from sqlalchemy import select

from core.cases import clock
from core.cases.models import Case, CaseEvent
from core.notify.outbox import OutboxMessage
from core.supervision.models import FollowUp
from core.supervision.sweep import run_sweep
from tests.cases.conftest import Desk, at
from tests.helpers import account_token, bearer, staff_token

ZHANG = "13800000001"


def test_the_supervisor_sees_red_cards_and_presses_a_case(hechi: Desk, client, db) -> None:
    at("2026-11-02")
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SB04")
    at("2026-11-19")
    run_sweep(hechi.db)
    supervisor = staff_token(db, "hechi", "hechi-supervisor")
    clerk = staff_token(db, "hechi", "hechi-clerk")
    assert client.get("/api/v1/t/hechi/supervision/lists", headers=bearer(clerk)).status_code == 403
    lists = client.get("/api/v1/t/hechi/supervision/lists", headers=bearer(supervisor)).json()
    assert number in [t["number"] for t in lists["red"]]
    assert number in [t["number"] for t in lists["overdue"]]

    url = f"/api/v1/t/hechi/cases/{number}/supervision"
    # a reason is required; a second red card on the same step is refused
    missing = client.post(url, json={"kind": "remind", "reason": " "}, headers=bearer(supervisor))
    assert missing.status_code == 422 and missing.json()["field"] == "reason"
    again = client.post(url, json={"kind": "red", "reason": "再次"}, headers=bearer(supervisor))
    assert again.status_code == 409
    assert (
        client.post(url, json={"kind": "note", "reason": "x"}, headers=bearer(clerk)).status_code
        == 403
    )
    for kind, reason in (("remind", "请今天内受理"), ("note", "已电话联系窗口负责人")):
        done = client.post(url, json={"kind": kind, "reason": reason}, headers=bearer(supervisor))
        assert done.status_code == 200, done.text
    case = hechi.case(number)
    with hechi.session() as s:
        trail = [
            (e.action, e.reason, e.actor_name)
            for e in s.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
            )
        ]
        reminders = [
            m.phone
            for m in s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.case_id == case.id, OutboxMessage.template == "card_manual"
                )
            )
        ]
    assert ("remind", "请今天内受理", "杨效能监察员") in trail
    assert ("note", "已电话联系窗口负责人", "杨效能监察员") in trail
    assert reminders == ["13800000113"]  # the clerk who holds the step, once (not for the note)
    clock.set_now(None)


def test_complaints_and_counter_ratings_reach_the_supervisor(hechi: Desk, client, db) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SB05")
    hechi.act(hechi.staff("hechi-clerk"), number, "decide")
    citizen = account_token(db, "hechi", ZHANG)
    clerk = staff_token(db, "hechi", "hechi-clerk")
    supervisor = staff_token(db, "hechi", "hechi-supervisor")
    rated = client.post(
        f"/api/v1/t/hechi/cases/{number}/counter-rating",
        json={"score": 40},
        headers=bearer(clerk),
    )
    assert rated.status_code == 200, rated.text
    assert (hechi.case(number).rating, hechi.case(number).rating_channel) == (40, "counter")
    complaint = client.post(
        f"/api/v1/t/hechi/cases/{number}/complaint",
        json={"text": "窗口排队时间过长"},
        headers=bearer(citizen),
    )
    assert complaint.status_code == 201
    lists = client.get("/api/v1/t/hechi/supervision/lists", headers=bearer(supervisor)).json()
    mine = [f for f in lists["follow_ups"] if f["number"] == number]
    assert sorted(f["kind"] for f in mine) == ["complaint", "low_rating"]
    close = f"/api/v1/t/hechi/follow-ups/{mine[0]['id']}/close"
    assert (
        client.post(close, json={"resolution": ""}, headers=bearer(supervisor)).status_code == 422
    )
    done = client.post(close, json={"resolution": "已回访，致歉"}, headers=bearer(supervisor))
    assert done.status_code == 200
    assert (
        client.post(close, json={"resolution": "再次"}, headers=bearer(supervisor)).status_code
        == 409
    )
    with hechi.session() as s:
        states = sorted(
            f.state
            for f in s.scalars(select(FollowUp).where(FollowUp.case_id == hechi.case(number).id))
        )
    assert states == ["closed", "open"]


def test_public_statistics_match_a_direct_count(hechi: Desk, client) -> None:
    year = clock.today().year
    with hechi.session() as s:
        rows = s.execute(
            select(
                Case.submitted_at, Case.completed_at, Case.state, Case.due_on, Case.rating
            ).where(Case.tenant_id == hechi.tenant.id)
        ).all()
    local = lambda t: t.astimezone(clock.TZ) if t else None  # noqa: E731
    received = sum(1 for r in rows if r[0] and local(r[0]).year == year)
    done = [
        r
        for r in rows
        if r[1] and local(r[1]).year == year and r[2].value in ("completed", "delivered")
    ]
    on_time = sum(1 for r in done if r[3] is None or local(r[1]).date() <= r[3])
    rated = [r for r in done if r[4] is not None]
    satisfied = sum(1 for r in rated if r[4] >= 60)
    stats = client.get("/api/v1/t/hechi/stats/public").json()
    assert stats["received"] == received and received > 0
    assert stats["completed"] == len(done) and stats["on_time"] == on_time
    assert stats["rated"] == len(rated) and stats["satisfied"] == satisfied
    if done:
        assert abs(float(stats["on_time_rate"]) - on_time * 100 / len(done)) <= 0.05
    page = client.get("/t/hechi/stats")
    assert page.status_code == 200 and f'data-stat="received">{received}<' in page.text

"""Dashboards and performance scores: a month of work shows the same numbers counted live and
rolled up; drill-down lists the cases behind a number; CSV export; a province rolls up its
counties; the supervisor's pages; scores that recompute from their stored inputs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete

from core.cases import clock
from core.cases.trail import Actor
from core.supervision.dashboard import Filters, drill, report
from core.supervision.facts import roll_up, rolled_through
from core.supervision.models import DashboardDay, DashboardMark, PerformanceScore
from core.supervision.ratings import record_rating
from core.supervision.scores import compute_month, run_dashboards, score_of
from core.supervision.sweep import run_sweep
from tests.cases.conftest import Desk, at
from tests.helpers import bearer, csrf_token, staff_token

ZHANG, LI = "13800000001", "13800000008"
JULY = Filters(date(2026, 7, 1), date(2026, 7, 31))


@pytest.fixture
def clean(hechi: Desk) -> Iterator[None]:
    """The roll-up state is the shared demo database's: start and leave it without one."""

    def wipe() -> None:
        with hechi.session() as s:
            for model in (DashboardDay, DashboardMark, PerformanceScore):
                s.execute(delete(model).where(model.tenant_id == hechi.tenant.id))
            s.commit()

    wipe()
    yield
    wipe()


def _counts(hechi: Desk, by: str, f: Filters = JULY) -> dict[str, dict[str, int]]:
    with hechi.session() as s:
        result = report(s, hechi.tenant, f, by)
        return {r.key: dict(r.counts) for r in [*result.rows, result.total]}


def _delta(after: dict[str, int], before: dict[str, int] | None) -> dict[str, int]:
    before = before or {}
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def _month_of_work(hechi: Desk) -> dict[str, str]:
    """On-the-spot, corrected, and late cases in July 2026 (no holidays in it)."""
    clerk, reviewer = hechi.staff("hechi-clerk"), hechi.staff("hechi-reviewer")
    approver, issuer = hechi.staff("hechi-approver"), hechi.staff("hechi-issuer")
    at("2026-07-06")
    quick = hechi.apply(hechi.citizen(ZHANG), "HC-SB05")
    hechi.act(clerk, quick, "decide")
    with hechi.session() as s:
        case = s.merge(hechi.case(quick))
        record_rating(s, hechi.tenant, case, 95, "", "web", Actor("citizen", "", "张"))
        s.commit()
    fixed = hechi.apply(hechi.citizen(LI), "HC-SC03")
    hechi.act(clerk, fixed, "request_correction", materials=[{"index": 0, "reason": "不清晰"}])
    slow = hechi.apply(hechi.citizen(ZHANG), "HC-SC03")  # promised in 10 working days
    hechi.act(clerk, slow, "accept")
    at("2026-07-21")
    run_sweep(hechi.db)  # the review step is long past its limit: a red card
    hechi.act(reviewer, slow, "review")
    at("2026-07-22")
    hechi.act(approver, slow, "approve")
    hechi.act(issuer, slow, "issue")  # the licence issued: decided
    return {"quick": quick, "fixed": fixed, "slow": slow}


def test_a_month_of_work_counts_the_same_live_and_rolled_up(hechi: Desk, clean) -> None:
    before_staff, before_dept = _counts(hechi, "staff"), _counts(hechi, "department")
    cases = _month_of_work(hechi)
    clerk = hechi.staff("hechi-clerk")
    live_staff, live_dept = _counts(hechi, "staff"), _counts(hechi, "department")
    mine = _delta(live_staff[str(clerk.id)], before_staff.get(str(clerk.id)))
    assert mine == {
        "accepted": 2,  # the on-the-spot one and the slow one
        "corrected": 1,
        "completed": 2,
        "on_time": 1,
        "late": 1,  # decided 07-22, promised by 07-20
        "work_days": 12,  # 07-06 → 07-22, weekends not counted
        "rated": 1,
        "satisfied": 1,
        "score_sum": 95,
    }
    assert _delta(live_staff[""], before_staff.get(""))["received"] == 3  # nobody's: online
    total = _delta(live_dept[""], before_dept.get(""))
    assert total["red"] == 1 and total["received"] == 3

    # roll the month up (as the worker does on August 1st): the same numbers from the roll-up
    at("2026-08-01")
    with hechi.session() as s:
        while roll_up(s, hechi.tenant) == 31:
            s.commit()
        s.commit()
        assert rolled_through(s, hechi.tenant) == date(2026, 7, 31)
    assert _counts(hechi, "staff") == live_staff
    assert _counts(hechi, "department") == live_dept
    by_day = _counts(hechi, "day")
    assert by_day["2026-07-06"]["received"] >= 3 and by_day["2026-07-22"]["completed"] >= 1
    assert _counts(hechi, "month")["2026-07"] == live_dept[""]

    # drill-down: the cases behind "late" and behind the clerk's corrections
    with hechi.session() as s:
        late = [c.number for c in drill(s, hechi.tenant, JULY, "late")]
        corrected = drill(
            s,
            hechi.tenant,
            Filters(JULY.start, JULY.end, staff=str(clerk.id)),
            "corrected",
        )
        red = [c.number for c in drill(s, hechi.tenant, JULY, "red")]
    assert cases["slow"] in late and cases["quick"] not in late
    assert [c.number for c in corrected] == [cases["fixed"]]
    assert cases["slow"] in red


def test_scores_recompute_from_their_inputs(hechi: Desk, clean) -> None:
    _month_of_work(hechi)
    at("2026-08-03")
    totals = run_dashboards(hechi.db)  # the worker: roll-up, then this month's and July's
    assert totals["days"] >= 28  # from the first case (07-06) to yesterday
    clerk = hechi.staff("hechi-clerk")
    with hechi.session() as s:
        assert rolled_through(s, hechi.tenant) == date(2026, 8, 2)
        assert compute_month(s, hechi.tenant, "2026-07") >= 2  # again: same rows, updated
        s.commit()
        scores = {
            (p.subject_kind, p.subject_id): p
            for p in s.query(PerformanceScore).filter(PerformanceScore.month == "2026-07")
        }
    mine = scores[("staff", str(clerk.id))]
    # recompute by hand from the stored inputs and the documented formula
    i = mine.inputs
    t = Decimal(i["on_time"]) / Decimal(i["completed"])
    sat = Decimal(i["satisfied"]) / Decimal(i["rated"])
    c = Decimal(i["corrected"]) / Decimal(i["accepted"] + i["corrected"])
    expected = 100 * (Decimal("0.5") * t + Decimal("0.3") * sat + Decimal("0.2") * (1 - c))
    expected -= 5 * i["red"] + 2 * i["yellow"]
    assert Decimal(mine.score) == expected.quantize(Decimal("0.01"))
    assert mine.subject_name == "李窗口受理员"
    department = next(p for (k, _), p in scores.items() if k == "department")
    assert department.inputs["weights"]["red"] == "5"
    # a perfect month, and one that red cards sink to zero (never below)
    perfect = dict.fromkeys(("completed", "on_time", "rated", "satisfied", "accepted"), 4)
    perfect.update(corrected=0, yellow=0, red=0)
    assert score_of(perfect)[0] == Decimal("100.00")
    assert score_of({**perfect, "red": 30})[0] == Decimal("0.00")


def test_dashboard_api_csv_and_the_province_roll_up(hechi: Desk, client, db, clean) -> None:
    _month_of_work(hechi)
    clock.set_now(None)
    supervisor = staff_token(db, "hechi", "hechi-supervisor")
    clerk = staff_token(db, "hechi", "hechi-clerk")
    url = "/api/v1/t/hechi/supervision/dashboard?from=2026-07-01&to=2026-07-31"
    assert client.get(url, headers=bearer(clerk)).status_code == 403
    got = client.get(url + "&by=item", headers=bearer(supervisor))
    assert got.status_code == 200
    items = {r["key"]: r for r in got.json()["rows"]}
    assert items["HC-SC03"]["overdue"] >= 1 and items["HC-SB05"]["on_time_rate"]
    bad = client.get(url.replace("2026-07-31", "2026-13-01"), headers=bearer(supervisor))
    assert bad.status_code == 422 and bad.json()["field"] == "to"
    assert client.get(url + "&by=colour", headers=bearer(supervisor)).status_code == 422

    exported = client.get(
        url.replace("dashboard?", "dashboard.csv?") + "&by=staff", headers=bearer(supervisor)
    )
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["工作人员", "收件", "受理", "办结"]
    assert any(r[0] == "李窗口受理员" for r in rows)
    assert rows[-1][0] == "合计"

    drilled = client.get(
        "/api/v1/t/hechi/supervision/dashboard/cases?metric=late&from=2026-07-01&to=2026-07-31",
        headers=bearer(supervisor),
    ).json()
    assert all(c["on_time"] is False for c in drilled) and drilled

    # the province sees each county's totals; a county's supervisor cannot ask the province
    province = staff_token(db, "guangxi", "guangxi-admin")
    rolled = client.get(
        "/api/v1/t/guangxi/supervision/dashboard?from=2026-07-01&to=2026-07-31",
        headers=bearer(province),
    )
    assert rolled.status_code == 200, rolled.text
    counties = {r["key"]: r for r in rolled.json()["rows"]}
    hechi_july = client.get(url, headers=bearer(supervisor)).json()["total"]
    assert counties["hechi"]["received"] == hechi_july["received"]
    assert rolled.json()["total"]["received"] >= hechi_july["received"]
    assert (
        client.get(
            "/api/v1/t/guangxi/supervision/dashboard", headers=bearer(supervisor)
        ).status_code
        == 401
    )


def test_the_supervisor_pages(app, hechi: Desk, clean) -> None:
    cases = _month_of_work(hechi)
    clock.set_now(None)
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = csrf_token(browser, "/t/hechi/staff/login")
        browser.post(
            "/t/hechi/staff/login",
            data={"username": "hechi-supervisor", "password": "Demo-2026", "_csrf_token": token},
        )
        page = browser.get("/t/hechi/supervision/dashboard?from=2026-07-01&to=2026-07-31&by=item")
        assert page.status_code == 200
        assert 'id="dashboard-chart"' in page.text and "/static/js/dashboard.js" in page.text
        assert 'data-row="HC-SC03"' in page.text and "metric=late" in page.text
        bad = browser.get("/t/hechi/supervision/dashboard?from=2026-07-40")
        assert bad.status_code == 200 and "日期格式应为 YYYY-MM-DD" in bad.text
        drill_page = browser.get(
            "/t/hechi/supervision/dashboard/cases?metric=late&from=2026-07-01&to=2026-07-31"
        )
        assert f'data-number="{cases["slow"]}"' in drill_page.text
        desk = browser.get("/t/hechi/supervision")
        assert desk.status_code == 200 and "红牌" in desk.text
        # a note on a case from the desk, with its reason; without one it is refused, kept
        note = browser.post(
            f"/t/hechi/supervision/cases/{cases['fixed']}",
            data={"kind": "note", "reason": "", "_csrf_token": token},
            follow_redirects=True,
        )
        assert "请填写理由" in note.text
        note = browser.post(
            f"/t/hechi/supervision/cases/{cases['fixed']}",
            data={"kind": "note", "reason": "已电话提醒申请人补正", "_csrf_token": token},
            follow_redirects=True,
        )
        assert "备注已记录" in note.text
        scores = browser.get("/t/hechi/supervision/scores?month=2026-07")
        assert scores.status_code == 200 and 'data-testid="formula"' in scores.text
    with TestClient(app=app, base_url="http://testserver.local") as clerk:
        token = csrf_token(clerk, "/t/hechi/staff/login")
        clerk.post(
            "/t/hechi/staff/login",
            data={"username": "hechi-clerk", "password": "Demo-2026", "_csrf_token": token},
        )
        assert clerk.get("/t/hechi/supervision/dashboard").status_code == 403

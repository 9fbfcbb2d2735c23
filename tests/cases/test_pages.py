"""The case pages: a citizen applies from the item page, uploads, submits and follows the
case; a clerk finds it in the workbench queue and accepts it; the public progress query and
verification page."""

from __future__ import annotations

import re

from litestar.testing import TestClient
from sqlalchemy import select

from core.cases.models import Case
from tests.helpers import csrf_token

ZHANG = "13800000001"


def _citizen_login(client: TestClient) -> str:
    token = csrf_token(client, "/t/hechi/login")
    response = client.post(
        "/t/hechi/login/password",
        data={"phone": ZHANG, "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    return token


def _staff_login(client: TestClient, username: str) -> str:
    token = csrf_token(client, "/t/hechi/staff/login")
    response = client.post(
        "/t/hechi/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303)
    return token


def test_a_citizen_applies_on_the_portal_and_a_clerk_accepts_in_the_workbench(app) -> None:
    with TestClient(app=app, base_url="http://testserver.local") as citizen:
        token = _citizen_login(citizen)
        item = citizen.get("/t/hechi/items/HC-SC03")
        assert 'href="/t/hechi/items/HC-SC03/apply"' in item.text
        form = citizen.get("/t/hechi/items/HC-SC03/apply")
        assert form.status_code == 200 and "快递送达" in form.text
        key = re.search(r'name="key" value="([^"]+)"', form.text).group(1)
        body = {"_csrf_token": token, "key": key, "delivery": "pickup"}
        created = citizen.post("/t/hechi/items/HC-SC03/apply", data=body, follow_redirects=False)
        assert created.status_code in (302, 303)
        location = created.headers["location"]
        # a double click creates nothing new
        twice = citizen.post("/t/hechi/items/HC-SC03/apply", data=body, follow_redirects=False)
        assert twice.headers["location"].split("?")[0] == location.split("?")[0]
        number = location.split("/my/cases/")[1].split("?")[0]

        page = citizen.get(location)
        assert page.status_code == 200 and "已创建申请" in page.text
        assert page.text.count('<form class="upload ') == 3 and "/static/js/upload.js" in page.text
        for index in range(3):
            uploaded = citizen.post(
                f"/t/hechi/my/cases/{number}/materials?index={index}",
                files={"file": ("m.pdf", b"%PDF-1.4 material", "application/pdf")},
                headers={"x-csrftoken": token, "accept": "application/json"},
            )
            assert uploaded.status_code == 201, uploaded.text
        # without the CSRF header the upload is refused
        refused = citizen.post(
            f"/t/hechi/my/cases/{number}/materials?index=0",
            files={"file": ("m.pdf", b"%PDF-1.4 material", "application/pdf")},
        )
        assert refused.status_code == 403
        submitted = citizen.post(
            f"/t/hechi/my/cases/{number}/do/submit", data={"_csrf_token": token}
        )
        assert "已提交" in submitted.text and "待受理" in submitted.text
        assert number in citizen.get("/t/hechi/my/cases").text
        query = re.search(r'data-testid="query-code">(\d{6})', submitted.text).group(1)

    with TestClient(app=app, base_url="http://testserver.local") as clerk:
        token = _staff_login(clerk, "hechi-clerk")
        # filtered by the item: the tests before this one may have filled the first pages
        queue = clerk.get("/t/hechi/workbench/queue?item=HC-SC03")
        assert number in queue.text and "card-" in queue.text
        case_page = clerk.get(f"/t/hechi/workbench/cases/{number}")
        assert 'value="accept"' in case_page.text and 'value="request_correction"' in case_page.text
        # 一次性补正 can be sent once only: the button asks first and says so
        correction = case_page.text.split('value="request_correction"')[1].split(">")[0]
        assert "data-confirm=" in correction and "只能发出一次" in correction
        # sent with nothing ticked: the error, and the checklist left open to tick
        nothing = clerk.post(
            f"/t/hechi/workbench/cases/{number}/act",
            data={"_csrf_token": token, "action": "request_correction"},
        )
        assert "请列出需要补正的全部材料" in nothing.text
        checklist = nothing.text.split('data-testid="correction-checklist"')[0].rsplit(
            "<details", 1
        )[1]
        assert " open" in checklist
        accepted = clerk.post(
            f"/t/hechi/workbench/cases/{number}/act",
            data={"_csrf_token": token, "action": "accept"},
        )
        assert "已受理，办件已转入下一环节" in accepted.text and "办理中" in accepted.text
        again = clerk.post(
            f"/t/hechi/workbench/cases/{number}/act",
            data={"_csrf_token": token, "action": "refuse", "reason": "x"},
        )
        assert 'data-testid="error"' in again.text  # a 409 explained on the page
        notice = re.search(r"/t/hechi/workbench/cases/[^/]+/notices/([A-Z0-9]{12})", accepted.text)
        pdf = clerk.get(notice.group(0))
        assert pdf.headers["content-type"].startswith("application/pdf")
        # accepted, it has left the clerk's queue; its number still finds it
        looked_up = clerk.get("/t/hechi/workbench/queue", params={"item": number})
        assert 'data-testid="case-elsewhere"' in looked_up.text and "办理中" in looked_up.text
        assert f'href="/t/hechi/workbench/cases/{number}"' in looked_up.text

    with TestClient(app=app, base_url="http://testserver.local") as township:
        _staff_login(township, "hechi-township")  # not a case of the township's
        looked_up = township.get("/t/hechi/workbench/queue", params={"item": number})
        assert "case-elsewhere" not in looked_up.text and "暂无待办" in looked_up.text

    with TestClient(app=app, base_url="http://testserver.local") as anyone:
        found = anyone.get(f"/t/hechi/progress?number={number}&code={query}")
        assert 'data-testid="progress"' in found.text and "张伟" not in found.text
        wrong = anyone.get(f"/t/hechi/progress?number={number}&code=999999x")
        assert "不正确" in wrong.text and 'value="999999x"' in wrong.text  # kept to fix
        # typed from an SMS: spaces for hyphens, full-width digits; a code in Chinese is wrong
        spaced = number.replace("-", " ")
        found = anyone.get("/t/hechi/progress", params={"number": spaced, "code": query})
        assert 'data-testid="progress"' in found.text
        wide = "".join(chr(ord(c) + 0xFEE0) for c in query)  # １２３…
        found = anyone.get("/t/hechi/progress", params={"number": number, "code": wide})
        assert 'data-testid="progress"' in found.text
        chinese = anyone.get("/t/hechi/progress", params={"number": number, "code": "查询码"})
        assert chinese.status_code == 200 and "不正确" in chinese.text
        checked = anyone.get(f"/t/hechi/verify/{notice.group(1)}")
        assert "真实有效" in checked.text
        assert "不是本平台出具" in anyone.get("/t/hechi/verify/ABCDEFGHJKLM").text


def test_a_citizen_is_told_where_to_collect_the_result_and_sees_it_collected(app, db) -> None:
    """窗口领取: once decided, the citizen's page says where, when and with what to collect
    the result; once the clerk hands it over, the case reads 已领取, not 已送达."""
    from tests.cases.conftest import Desk

    hechi = Desk(db, "hechi")
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SC03")
    for who, action in (
        ("hechi-clerk", "accept"),
        ("hechi-reviewer", "review"),
        ("hechi-approver", "approve"),
        ("hechi-issuer", "issue"),
    ):
        hechi.act(hechi.staff(who), number, action)
    from sqlalchemy import select

    from core.notify.outbox import OutboxMessage
    from core.notify.sms import render_sms

    with hechi.session() as s:  # the 办结 text says where to collect it, too
        done = s.scalar(
            select(OutboxMessage).where(
                OutboxMessage.case_id == hechi.case(number).id,
                OutboxMessage.template == "case_completed",
            )
        )
        assert done is not None
        said = render_sms(hechi.tenant, done.template, done.params)
    assert "请携带本人身份证原件到河池市政务服务中心领取" in said
    with TestClient(app=app, base_url="http://testserver.local") as citizen:
        _citizen_login(citizen)
        page = citizen.get(f"/t/hechi/my/cases/{number}").text
        pickup = page.split('data-testid="pickup"')[1].split("</div>\n</div>")[0]
        assert "河池市政务服务中心" in pickup and "河池市行政中心一楼" in pickup
        assert "身份证原件" in pickup and "周一至周五" in pickup
        hechi.act(hechi.staff("hechi-clerk"), number, "deliver")
        page = citizen.get(f"/t/hechi/my/cases/{number}").text
        assert 'data-testid="pickup"' not in page
        assert re.search(r'data-testid="case-state">\s*已领取', page)


def test_a_submitted_case_says_how_long_it_takes_once_accepted(app, db) -> None:
    """Before 受理 there is no date: the citizen is told the working days it takes once
    accepted, and that the date comes by SMS (the page said nothing of when)."""
    from tests.cases.conftest import Desk

    hechi = Desk(db, "hechi")
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SC03")
    with TestClient(app=app, base_url="http://testserver.local") as citizen:
        _citizen_login(citizen)
        page = citizen.get(f"/t/hechi/my/cases/{number}").text
    said = page.split('data-testid="promised-days"')[1].split("</p>")[0]
    assert "个工作日内办结" in said and "短信" in said
    # the public progress lookup (no sign-in) says the same before acceptance, and the date after
    with hechi.session() as s:
        code = s.scalar(select(Case.query_code).where(Case.number == number))
    with TestClient(app=app, base_url="http://testserver.local") as anyone:
        looked_up = anyone.get(f"/t/hechi/progress?number={number}&code={code}").text
        assert "个工作日内办结" in looked_up.split('data-testid="promised-days"')[1]
        hechi.act(hechi.staff("hechi-clerk"), number, "accept")
        looked_up = anyone.get(f"/t/hechi/progress?number={number}&code={code}").text
    assert 'data-testid="promised-days"' not in looked_up and "承诺办结日期" in looked_up

"""在线咨询与投诉 on the pages: a citizen asks (CSRF-bearing form, errors beside the field with
what was typed kept) and follows the answer in 我的咨询与投诉; 人社局's reviewer finds it in the
workbench and answers it as a public FAQ; the window clerk of the centre, another citizen and
another tenant get a 404; a complaint only about one's own case."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from litestar.testing import TestClient

from tests.cases.conftest import Desk
from tests.helpers import csrf_token

ZHANG, LINA = "13800000001", "13800000008"


@contextmanager
def signed_in(app, who: str, slug: str = "hechi") -> Iterator[tuple[TestClient, str]]:
    """A browser signed in as a demo citizen (a phone number) or staff member (a username)."""
    with TestClient(app=app, base_url="http://testserver.local") as client:
        if who.isdigit():
            token = csrf_token(client, f"/t/{slug}/login")
            url, data = f"/t/{slug}/login/password", {"phone": who}
        else:
            token = csrf_token(client, f"/t/{slug}/staff/login")
            url, data = f"/t/{slug}/staff/login", {"username": who}
        signed = client.post(
            url,
            data={**data, "password": "Demo-2026", "_csrf_token": token},
            follow_redirects=False,
        )
        assert signed.status_code in (302, 303), signed.text
        yield client, token


def _faq_html(db, code: str) -> str:
    """The FAQ fragment as the item guide includes it, with what its handler passes."""
    from jinja2 import Environment, FileSystemLoader

    from core.consult import public_faq
    from web.templating import TEMPLATES

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    env.add_extension("jinja2.ext.i18n")
    env.globals["gettext"] = env.globals["_"] = lambda text, **values: text % values
    hechi = Desk(db, "hechi")
    with hechi.session() as s:
        faqs = public_faq(s, hechi.tenant, code)
    return env.get_template("consult/_faq.html").render(faqs=faqs).strip()


def test_a_citizen_asks_and_the_department_answers_as_a_public_faq(app, db) -> None:
    with signed_in(app, LINA) as (lina, token):
        form = lina.get("/t/hechi/consult/new?item=HC-SB01")
        assert form.status_code == 200 and 'name="_csrf_token"' in form.text
        assert 'value="HC-SB01" selected' in form.text and "市人力资源和社会保障局" in form.text
        assert "3 个工作日" in form.text
        rows = lina.get("/t/hechi/my/consultations").text.count('data-testid="consultation-row"')
        body = {"item": "HC-SB01", "subject": "能否异地认证", "text": "我在外地，退休认证怎么办？"}
        # without the token: refused, nothing made
        assert lina.post("/t/hechi/consult/new", data=body).status_code == 403
        # a missing subject: said beside the field, the question kept
        missing = lina.post(
            "/t/hechi/consult/new", data={**body, "subject": "", "_csrf_token": token}
        )
        assert missing.status_code == 422
        assert "请填写标题" in missing.text and "我在外地，退休认证怎么办？" in missing.text
        made = lina.post(
            "/t/hechi/consult/new", data={**body, "_csrf_token": token}, follow_redirects=False
        )
        assert made.status_code in (302, 303)
        number = re.search(r"/my/consultations/(ZX\d+)", made.headers["location"]).group(1)
        mine = lina.get("/t/hechi/my/consultations")
        assert mine.text.count('data-testid="consultation-row"') == rows + 1
        assert number in mine.text and "待答复" in mine.text and "waiting" not in mine.text

    # 人社局's reviewer sees it in the workbench and answers it
    with signed_in(app, "hechi-reviewer") as (reviewer, token):
        queue = reviewer.get("/t/hechi/workbench/consultation-queue")
        assert number in queue.text and "按时" in queue.text
        listed = reviewer.get("/t/hechi/workbench/consultations")
        assert number in listed.text and "李*" in listed.text and "李娜" not in listed.text
        page = reviewer.get(f"/t/hechi/workbench/consultations/{number}")
        assert 'name="public"' in page.text and 'name="_csrf_token"' in page.text
        url = f"/t/hechi/workbench/consultations/{number}/answer"
        answer = {"answer": "可以在“广西人社”App 上刷脸认证。", "public": "on"}
        assert reviewer.post(url, data=answer).status_code == 403  # no CSRF token
        empty = reviewer.post(url, data={"answer": " ", "_csrf_token": token})
        assert empty.status_code == 422 and "请填写答复内容" in empty.text
        done = reviewer.post(
            url, data={**answer, "public_question": "退休人员能否异地认证？", "_csrf_token": token}
        )
        assert done.status_code == 200 and "已答复" in done.text and "已公开为常见问题" in done.text
        again = reviewer.post(url, data={**answer, "_csrf_token": token})
        assert "已经答复过了" in again.text

    # the citizen reads the answer; the item's guide gets it as a FAQ, without the asker
    with signed_in(app, LINA) as (lina, _):
        seen = lina.get(f"/t/hechi/my/consultations/{number}")
        assert "已答复" in seen.text and "刷脸认证" in seen.text
    faq = _faq_html(db, "HC-SB01")
    assert "退休人员能否异地认证？" in faq and "刷脸认证" in faq and "李娜" not in faq
    assert _faq_html(db, "HC-SC01") == ""  # nothing published: nothing shown


def test_others_get_a_404_and_only_the_department_answers(app, db) -> None:
    with signed_in(app, LINA) as (lina, token):
        made = lina.post(
            "/t/hechi/consult/new",
            data={"item": "HC-SB01", "subject": "谁能看到", "text": "私事", "_csrf_token": token},
            follow_redirects=False,
        )
        number = re.search(r"/my/consultations/(ZX\d+)", made.headers["location"]).group(1)
        # a Hechi citizen's session is no session at Bozhou (another province)
        elsewhere = lina.get(f"/t/bozhou/my/consultations/{number}", follow_redirects=False)
        assert elsewhere.status_code in (302, 303, 404)

    with signed_in(app, ZHANG) as (zhang, _):
        assert zhang.get(f"/t/hechi/my/consultations/{number}").status_code == 404
        assert number not in zhang.get("/t/hechi/my/consultations").text

    with signed_in(app, "hechi-clerk") as (clerk, token):  # the centre's window, not 人社局
        assert clerk.get(f"/t/hechi/workbench/consultations/{number}").status_code == 404
        assert number not in clerk.get("/t/hechi/workbench/consultation-queue").text
        refused = clerk.post(
            f"/t/hechi/workbench/consultations/{number}/answer",
            data={"answer": "越权答复", "_csrf_token": token},
        )
        assert refused.status_code == 404
        assert clerk.get("/t/hechi/consult/new").status_code == 403  # staff do not ask

    with signed_in(app, "hechi-supervisor") as (supervisor, token):
        assert supervisor.get(f"/t/hechi/workbench/consultations/{number}").status_code == 200
        forbidden = supervisor.post(
            f"/t/hechi/workbench/consultations/{number}/answer",
            data={"answer": "监察员不答复", "_csrf_token": token},
        )
        assert forbidden.status_code == 403
        desk = supervisor.get("/t/hechi/supervision/")
        assert 'data-testid="consult-counts"' in desk.text

    with signed_in(app, "bozhou-admin", "bozhou") as (bozhou, _):
        assert bozhou.get(f"/t/bozhou/workbench/consultations/{number}").status_code == 404
        assert number not in bozhou.get("/t/bozhou/workbench/consultations").text


def test_a_complaint_comes_from_ones_own_case(app, db) -> None:
    hechi = Desk(db, "hechi")
    case_number = hechi.apply(hechi.citizen(ZHANG), "HC-SB04")
    with signed_in(app, LINA) as (lina, _):
        assert lina.get(f"/t/hechi/consult/new?case={case_number}").status_code == 404
    with signed_in(app, ZHANG) as (zhang, token):
        form = zhang.get(f"/t/hechi/consult/new?case={case_number}")
        assert form.status_code == 200 and "我要投诉" in form.text and case_number in form.text
        assert "5 个工作日" in form.text
        made = zhang.post(
            "/t/hechi/consult/new",
            data={
                "case": case_number,
                "subject": "迟迟未受理",
                "text": "提交三天了还没有受理。",
                "_csrf_token": token,
            },
            follow_redirects=False,
        )
        number = re.search(r"/my/consultations/(TS\d+)", made.headers["location"]).group(1)
        page = zhang.get(f"/t/hechi/my/consultations/{number}")
        assert "投诉" in page.text and case_number in page.text
        # a draft is not yet anyone's business: said at once, and refused if sent
        draft = hechi.apply(hechi.citizen(ZHANG), "HC-SB04", submit=False)
        early = zhang.get(f"/t/hechi/consult/new?case={draft}")
        assert early.status_code == 200 and "尚未提交的申请不能投诉" in early.text
        sent = zhang.post(
            "/t/hechi/consult/new",
            data={"case": draft, "subject": "草稿", "text": "草稿", "_csrf_token": token},
        )
        assert sent.status_code == 422
    with signed_in(app, "hechi-admin") as (admin, _):
        staff_page = admin.get(f"/t/hechi/workbench/consultations/{number}")
        assert staff_page.status_code == 200 and 'name="public"' not in staff_page.text

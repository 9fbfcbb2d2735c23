"""The item guide and applying without dead ends (issue 20): only the channels an item has
(no 在线申办 on a counter-only item, said before anyone signs in), the step bar 1 2 3 with its
labels, a courier draft without an address fixed and submitted from the confirm step with no
raw key on any page, the correction view with the clerk's words beside each material and
field, a timeline that never says 受理 before acceptance nor twice, and withdrawing that asks
first."""

from __future__ import annotations

import html
import re

from litestar.testing import TestClient

from core.cases.action_types import FieldIssue
from core.db import Database
from tests.cases.conftest import Desk
from tests.helpers import csrf_token

LI = "13800000008"  # 李娜, a demo citizen of Guangxi
ADDRESS = "广西河池市金城江区新建路 8 号 李娜 13800000008"
RAW_KEYS = re.compile(r"materials\[\d+\]|\baddress\b|form\.[a-z_]+")


def _signed_in(client: TestClient) -> str:
    token = csrf_token(client, "/t/hechi/login")
    response = client.post(
        "/t/hechi/login/password",
        data={"phone": LI, "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    return token


def _visible(page: str) -> str:
    """The text a person reads in the page's main part (no tags, attributes or scripts)."""
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<script.*?</script>", " ", main, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", main))


def _steps(page: str) -> list[tuple[str, str]]:
    """The step bar as (what its dot shows, its label)."""
    found = re.findall(
        r'<li class="gh-step is-(\w+)".*?<span class="gh-step-dot">(.*?)</span>\s*'
        r'<span class="gh-step-label">(.*?)</span>',
        page,
        re.S,
    )
    return [("✓" if state == "done" else dot.strip(), label) for state, dot, label in found]


def _timeline(page: str) -> list[tuple[str, str]]:
    """The timeline as (state, title) pairs."""
    return [
        (state, title.strip())
        for state, title in re.findall(
            r'<li class="gh-tl-item is-(\w+)".*?<div class="gh-tl-title">([^<]*)', page, re.S
        )
    ]


def test_a_counter_only_item_offers_no_online_application(client: TestClient) -> None:
    counter = client.get("/t/hechi/items/HC-XC02")  # 安全生产违法行为行政处罚: counter only
    assert counter.status_code == 200
    assert 'data-testid="apply"' not in counter.text
    assert 'data-testid="counter-only"' in counter.text
    assert 'data-channel="counter"' in counter.text
    assert 'data-channel="online"' not in counter.text
    assert 'data-channel="courier"' not in counter.text
    # the apply address itself says so at once, before sign-in or a form
    refused = client.get("/t/hechi/items/HC-XC02/apply", follow_redirects=False)
    assert refused.status_code in (302, 303)
    assert refused.headers["location"].startswith("/t/hechi/items/HC-XC02?error=")
    told = client.get(refused.headers["location"])
    assert "不支持网上申办" in told.text and 'data-testid="page-error"' in told.text

    online = client.get("/t/hechi/items/HC-SC03")  # 食品经营许可: online, counter, by post
    assert 'data-testid="apply"' in online.text
    for channel in ("online", "counter", "courier"):
        assert f'data-channel="{channel}"' in online.text
    for section in ("基本信息", "受理条件", "申请材料", "办理流程", "收费", "设定依据", "常见问题"):
        assert f">{section}<" in online.text or f"{section}</h2>" in online.text, section
    assert "/consult/new?item=HC-SC03" in online.text and "data-print" in online.text
    assert "checklist.pdf" in online.text
    materials = online.text.split('data-testid="materials"', 1)[1].split("</table>", 1)[0]
    assert "复印件" in materials and "申请人自备" in materials
    assert "business_license" not in materials  # a source in plain words, never its key


def test_the_step_bar_reads_one_two_three(client: TestClient) -> None:
    token = _signed_in(client)
    labels = ["填写表单", "上传材料", "确认提交"]
    form = client.get("/t/hechi/items/HC-SC03/apply")
    assert _steps(form.text) == list(zip(["1", "2", "3"], labels, strict=True))
    key = re.search(r'name="key" value="([^"]+)"', form.text).group(1)
    made = client.post(
        "/t/hechi/items/HC-SC03/apply",
        data={"_csrf_token": token, "key": key, "delivery": "pickup"},
        follow_redirects=False,
    )
    case_page = made.headers["location"].split("?")[0]
    assert _steps(client.get(case_page).text) == list(zip(["✓", "2", "3"], labels, strict=True))
    review = client.get(case_page + "/review")
    assert _steps(review.text) == list(zip(["✓", "✓", "3"], labels, strict=True))


def test_a_courier_draft_without_an_address_is_fixed_on_the_confirm_step(
    client: TestClient, db: Database
) -> None:
    desk = Desk(db, "hechi")
    li = desk.citizen(LI)
    number = desk.apply(li, "HC-SC03", submit=False, delivery="courier")
    token = _signed_in(client)
    page = f"/t/hechi/my/cases/{number}"

    # submitting anyway lands on the confirm step, which names what is missing in words
    tried = client.post(f"{page}/do/submit", data={"_csrf_token": token})
    assert tried.status_code == 200 and str(tried.url).split("?")[0].endswith("/review")
    review = client.get(f"{page}/review").text
    assert 'data-testid="still-missing"' in review
    assert "选择快递送达时，请填写寄送地址" in review
    assert 'data-testid="review-address"' in review  # fixable right here
    assert 'data-testid="submit"' not in review
    assert not RAW_KEYS.search(_visible(review)), RAW_KEYS.search(_visible(review))
    assert not RAW_KEYS.search(_visible(tried.text))

    saved = client.post(
        f"{page}/delivery",
        data={"_csrf_token": token, "delivery": "courier", "address": ADDRESS},
    )
    assert saved.status_code == 200 and "送达方式已保存" in saved.text
    assert 'data-testid="still-missing"' not in saved.text
    assert "新建路 8 号" in saved.text and 'data-testid="submit"' in saved.text
    done = client.post(f"{page}/do/submit", data={"_csrf_token": token})
    assert "待受理" in done.text


def test_the_correction_view_shows_the_clerks_words_beside_each_item(
    client: TestClient, db: Database
) -> None:
    desk = Desk(db, "hechi")
    li, clerk = desk.citizen(LI), desk.staff("hechi-clerk")
    number = desk.apply(li, "HC-SC03", form={"enterprise_name": "河池市李娜小吃店"})
    desk.act(
        clerk,
        number,
        "request_correction",
        reason="请按下列要求补正",
        materials=[{"index": 1, "reason": "营业执照复印件不清晰，请重新扫描"}],
        fields=[FieldIssue(key="enterprise_name", reason="名称须与营业执照一致")],
    )
    _signed_in(client)
    page = client.get(f"/t/hechi/my/cases/{number}").text
    view = page.split('data-testid="correction-asked"', 1)[1].split("</section>", 1)[0]
    material = view.split('data-testid="asked-material-1"', 1)[1].split("</li>", 1)[0]
    assert "营业执照" in material and "营业执照复印件不清晰，请重新扫描" in material
    assert 'class="upload ' in material  # its upload control right beside it
    field = view.split('data-testid="asked-field-enterprise_name"', 1)[1].split("</li>", 1)[0]
    assert "名称须与营业执照一致" in field and 'href="#form-enterprise_name"' in field
    assert "请按下列要求补正" in view  # the clerk's general words too
    assert 'data-testid="asked-material-0"' not in view  # only what was asked
    assert not RAW_KEYS.search(_visible(page))


def test_the_timeline_tells_only_what_happened(client: TestClient, db: Database) -> None:
    desk = Desk(db, "hechi")
    li, clerk = desk.citizen(LI), desk.staff("hechi-clerk")
    reviewer = desk.staff("hechi-reviewer")
    number = desk.apply(li, "HC-SC03")
    _signed_in(client)
    page = f"/t/hechi/my/cases/{number}"

    submitted = _timeline(client.get(page).text)
    assert ("done", "提交申请") in submitted
    assert ("current", "受理") in submitted and ("done", "受理") not in submitted
    assert [t for s, t in submitted if s == "todo"] == ["审核", "审批", "发证", "办结"]

    desk.act(
        clerk,
        number,
        "request_correction",
        materials=[{"index": 2, "reason": "平面图需标注面积"}],
    )
    correcting = _timeline(client.get(page).text)
    assert ("done", "受理") not in correcting  # asking for a correction is no acceptance
    assert ("done", "一次性告知补正") in correcting and ("current", "补正材料") in correcting
    assert [t for _, t in correcting].count("受理") == 1

    desk.upload(li, number, 2)
    token = csrf_token(client, page)
    client.post(f"{page}/do/correct", data={"_csrf_token": token})
    desk.act(clerk, number, "accept")
    accepted = _timeline(client.get(page).text)
    titles = [t for _, t in accepted]
    assert titles.count("受理") == 1 and ("done", "受理") in accepted
    assert ("done", "提交补正") in accepted and ("current", "审核") in accepted
    assert titles.index("提交申请") < titles.index("一次性告知补正") < titles.index("受理")
    desk.act(reviewer, number, "review")
    assert ("done", "审核") in _timeline(client.get(page).text)

    # the public progress query tells the same, without anyone's words
    code = desk.case(number).query_code
    public = client.get(f"/t/hechi/progress?number={number}&code={code}").text
    assert ("done", "受理") in _timeline(public) and ("current", "审批") in _timeline(public)
    assert "平面图需标注面积" not in public


def test_withdrawing_asks_first_and_stands_apart(client: TestClient, db: Database) -> None:
    desk = Desk(db, "hechi")
    number = desk.apply(desk.citizen(LI), "HC-SC03")
    _signed_in(client)
    page = client.get(f"/t/hechi/my/cases/{number}").text
    more = page.split('data-testid="more-actions"', 1)[1].split("</section>", 1)[0]
    button = re.search(r"<button[^>]*data-testid=\"withdraw\"[^>]*>", more).group(0)
    assert "data-confirm=" in button and "btn-outline-danger" in button
    assert f"/consult/new?case={number}" in more  # 投诉 on one's own case


def test_the_confirm_step_changes_the_delivery_and_nothing_else(
    client: TestClient, db: Database
) -> None:
    from tests.cases.test_forms import move
    from tests.form_values import id_number

    desk = Desk(db, "hechi")
    son = {"name": "王小明", "relation": "child", "id_number": id_number("451203", "20150601", 21)}
    form = move(movers=[son])
    number = desk.apply(desk.citizen(LI), "HC-HJ01", submit=False, form=form)
    before = desk.case(number).form
    token = _signed_in(client)
    saved = client.post(
        f"/t/hechi/my/cases/{number}/delivery",
        data={"_csrf_token": token, "delivery": "pickup"},
    )
    assert saved.status_code == 200 and "送达方式已保存" in saved.text
    assert desk.case(number).form == before  # every field, the address and the table kept
    refused = client.post(
        f"/t/hechi/my/cases/{number}/delivery",
        data={"_csrf_token": token, "delivery": "courier", "address": ADDRESS},
    )
    assert "不支持这种送达方式" in refused.text and desk.case(number).delivery_method == "pickup"


def test_the_timeline_ends_where_the_case_ended(db: Database) -> None:
    from sqlalchemy import select

    from core.cases.models import Case
    from core.cases.timeline import timeline

    desk = Desk(db, "hechi")
    li, clerk = desk.citizen(LI), desk.staff("hechi-clerk")
    refused = desk.apply(li, "HC-SC03")
    desk.act(clerk, refused, "refuse", reason="不属于本机关职权范围")
    done = desk.apply(li, "HC-SC03")
    desk.act(clerk, done, "accept")
    for who, action in (("reviewer", "review"), ("approver", "approve"), ("issuer", "issue")):
        desk.act(desk.staff(f"hechi-{who}"), done, action)

    def entries(number: str) -> list[tuple[str, str]]:
        with desk.session() as s:
            case = s.scalar(select(Case).where(Case.number == number))
            return [(e["state"], e["title"]) for e in timeline(s, case)]

    assert entries(refused) == [("done", "提交申请"), ("done", "不予受理")]  # nothing to come
    finished = entries(done)
    assert [t for s, t in finished if s == "done"] == [
        "提交申请",
        "受理",
        "审核",
        "审批",
        "发证",
        "办结",
    ]
    assert finished[-1] == ("todo", "送达（窗口领取）")

"""The public catalog portal and its API, as a citizen and an admin would use them."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.catalog import Item, ItemStatus
from core.db import Database
from core.tenancy import scope_for
from tests.helpers import bearer, staff_token, tenant


def _names(html: str, slug: str) -> list[str]:
    # each result: a link to the item whose first line is its name
    link = rf'href="/t/{slug}/items/[^"]+">\s*<div class="fw-semibold[^"]*">([^<]+)<'
    return re.findall(link, html)


def test_searching_a_county_finds_social_insurance_and_household_items(client) -> None:
    social = _names(client.get("/t/bozhou/items", params={"q": "社保"}).text, "bozhou")
    household = _names(client.get("/t/bozhou/items", params={"q": "户口"}).text, "bozhou")
    assert "社保卡申领" in social and "社会保险登记" in social
    assert "户口迁移（市外迁入）" in household and "户口迁出" in household
    assert not set(social) & set(household)
    api = client.get("/api/v1/t/bozhou/items", params={"q": "户口"}).json()
    assert {i["name"] for i in api["items"]} == set(household)


def test_an_empty_or_punctuation_search_is_no_error(client) -> None:
    for q in ("", "？？！", "%_'\"", " "):
        page = client.get("/t/cili/items", params={"q": q})
        assert page.status_code == 200
        assert client.get("/api/v1/t/cili/items", params={"q": q}).json()["total"] == 0


def test_filters_narrow_by_department_category_level_and_theme(client) -> None:
    by_dept = client.get(
        "/api/v1/t/hechi/items", params={"department": "HC-GAJ", "limit": 100}
    ).json()
    assert by_dept["total"] >= 5 and {i["department"] for i in by_dept["items"]} == {"HC-GAJ"}
    village = client.get("/api/v1/t/hechi/items", params={"level": "village", "limit": 100}).json()
    assert village["total"] > 0 and all("village" in i["levels"] for i in village["items"])
    theme = client.get("/api/v1/t/hechi/items", params={"theme": "xsecs"}).json()
    assert {i["code"] for i in theme["items"]} == {"HC-WJ02", "HC-HJ02", "HC-SB02"}
    chain = client.get("/t/hechi/themes/xsecs").text
    assert chain.index("出生医学证明首次签发") < chain.index("出生登记") < chain.index("社保卡申领")


def test_the_item_page_tells_everything_at_once(client) -> None:
    page = client.get("/t/cili/items/CL-MZ01").text
    for text in (
        "内地居民婚姻登记",
        "《婚姻登记条例》第五条",
        "居民户口簿",
        "结婚证工本费",
        "1 个工作日",
        "责任清单",
        "受理",
    ):
        assert text in page
    free = client.get("/t/cili/items/CL-SB04").text
    assert "不收费" in free


def test_a_county_override_shows_on_the_county_page_only(client) -> None:
    county = client.get("/t/suning/items/SN-SB02").text
    province = client.get("/t/hebei/items/HB-SB02").text
    assert 'data-testid="local-changes"' in county and "承诺时限" in county
    assert "县人力资源和社会保障局" in county
    assert 'data-testid="local-changes"' not in province
    assert "河北省政务服务管理办公室" in province
    county_days = re.search(r'data-testid="promised-days">(\d+)', county).group(1)
    province_days = re.search(r'data-testid="promised-days">(\d+)', province).group(1)
    assert int(county_days) < int(province_days)


def test_the_checklist_is_a_chinese_pdf(client) -> None:
    response = client.get("/t/hechi/items/HC-HJ03/checklist.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 5000
    assert client.get("/t/hechi/items/NOPE/checklist.pdf").status_code == 404


def test_statistics_match_the_database(client, db: Database) -> None:
    guangzhou = tenant(db, "guangzhou")
    with db.session(scope=scope_for(guangzhou)) as s:
        active = s.scalar(
            select(func.count())
            .select_from(Item)
            .where(Item.status == ItemStatus.active, Item.live_version_id.is_not(None))
        )
        by_dept = dict(
            s.execute(
                select(Item.department_code, func.count())
                .where(Item.status == ItemStatus.active, Item.live_version_id.is_not(None))
                .group_by(Item.department_code)
            ).all()
        )
    stats = client.get("/api/v1/t/guangzhou/catalog/stats").json()
    assert stats["items"] == active and stats["by_department"] == by_dept
    page = client.get("/t/guangzhou/catalog/stats").text
    assert f"公布在用事项 {active} 项" in page
    province = client.get("/api/v1/t/guangdong/catalog/stats").json()
    assert province["tenants"]["guangzhou"]["items"] == active
    assert province["counties_total"]["items"] == active
    assert "广州市" in client.get("/t/guangdong/catalog/stats").text


def test_an_admin_drafts_and_publishes_while_the_live_version_serves(client, db: Database) -> None:
    token = staff_token(db, "guangzhou", "guangzhou-admin")
    live = client.get("/api/v1/t/guangzhou/items/GZ-SC05").json()
    draft = {**live["content"], "promised_days": 2, "name": "企业简易注销登记"}
    saved = client.put(
        "/api/v1/t/guangzhou/items/GZ-SC05/draft",
        headers=bearer(token),
        json={"content": draft, "note": "推行简易注销"},
    )
    assert saved.status_code == 200 and saved.json()["state"] == "draft"
    still = client.get("/api/v1/t/guangzhou/items/GZ-SC05").json()
    assert still["content"]["name"] == "企业注销登记"
    assert "企业注销登记" in client.get("/t/guangzhou/items/GZ-SC05").text
    published = client.post(
        "/api/v1/t/guangzhou/items/GZ-SC05/publish",
        headers=bearer(token),
        json={"reason": "推行简易注销"},
    )
    assert published.json()["content"]["name"] == "企业简易注销登记"
    diff = client.get(
        "/api/v1/t/guangzhou/items/GZ-SC05/diff",
        params={"from_version": 1, "to_version": published.json()["version"]},
    ).json()
    assert {d["field"] for d in diff} == {"name", "promised_days"}
    changes = client.get("/api/v1/t/guangzhou/catalog/changes").json()
    assert any(c["item_code"] == "GZ-SC05" and c["reason"] == "推行简易注销" for c in changes)


def test_promised_days_above_legal_days_are_refused(client, db: Database) -> None:
    token = staff_token(db, "guangzhou", "guangzhou-admin")
    live = client.get("/api/v1/t/guangzhou/items/GZ-SB04").json()["content"]
    response = client.put(
        "/api/v1/t/guangzhou/items/GZ-SB04/draft",
        headers=bearer(token),
        json={"content": {**live, "promised_days": live["legal_days"] + 1}},
    )
    assert response.status_code == 422 and response.json()["field"] == "promised_days"


def test_cancelling_an_item_is_public_with_its_reason(client, db: Database) -> None:
    token = staff_token(db, "hechi", "hechi-admin")
    clerk = staff_token(db, "hechi", "hechi-clerk")
    body = {"action": "cancel", "reason": "依据国务院决定取消该事项"}
    assert (
        client.post(
            "/api/v1/t/hechi/items/HC-JY02/status", headers=bearer(clerk), json=body
        ).status_code
        == 403
    )
    done = client.post("/api/v1/t/hechi/items/HC-JY02/status", headers=bearer(token), json=body)
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    log = client.get("/t/hechi/catalog/changes").text
    assert "依据国务院决定取消该事项" in log
    assert "HC-JY02" not in {
        i["code"]
        for i in client.get("/api/v1/t/hechi/items", params={"limit": 200}).json()["items"]
    }

"""认领省级标准事项 in the browser and through the API, as a county admin does it."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.audit import AuditEntry
from core.catalog import Item
from core.db import Database
from core.tenancy import scope_for
from tests.adoption_world import World, new_county
from tests.helpers import bearer, csrf_token, staff_token


def _sign_in(client, world: World, who: str = "admin") -> str:
    slug = world.slug
    token = csrf_token(client, f"/t/{slug}/staff/login")
    client.post(
        f"/t/{slug}/staff/login",
        data={"username": f"{slug}-{who}", "password": "Demo-2026", "_csrf_token": token},
    )
    return token


def _codes(database: Database, world: World) -> set[str]:
    with database.session(scope=scope_for(world.county)) as s:
        return set(s.scalars(select(Item.code)))


def _adoptions(database: Database, world: World) -> int:
    with database.session(scope=scope_for(world.county)) as s:
        return len(
            s.scalars(
                select(AuditEntry).where(
                    AuditEntry.tenant_id == world.county.id, AuditEntry.action == "catalog.adopt"
                )
            ).all()
        )


def test_the_page_shows_the_standard_beside_the_county_and_suggests_the_mapping(
    client, db: Database
) -> None:
    world = new_county(db, admin=True)
    _sign_in(client, world)
    page = client.get(f"/t/{world.slug}/admin/catalog/adopt/")
    assert page.status_code == 200
    html = page.text
    assert "认领省级标准事项" in html and "未认领" in html
    assert re.findall(r'data-testid="adopt-row" data-code="([^"]+)"', html) == [
        "T-GA01",
        "T-SC01",
        "T-SC02",
        "T-ZW01",
    ]
    assert "T-OLD" not in html  # cancelled by the province
    # 市场监督管理局 is mapped by its name; 公安厅 waits for the admin
    mapping = re.search(r'name="map:P-SCJ"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert '<option value="X-SCJ" selected>' in mapping
    assert "selected" not in re.search(r'name="map:P-GAT"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert "全部认领（4 项）" in html
    # filters
    only = client.get(f"/t/{world.slug}/admin/catalog/adopt/?department=P-SCJ&q=食品").text
    assert re.findall(r'data-testid="adopt-row" data-code="([^"]+)"', only) == ["T-SC01"]
    assert "认领筛选出的全部 1 项" in only


def test_selected_items_are_confirmed_then_adopted_and_recorded(client, db: Database) -> None:
    world = new_county(db, admin=True)
    csrf = _sign_in(client, world)
    base = f"/t/{world.slug}/admin/catalog/adopt"
    choice = {
        "code": ["T-SC01", "T-GA01"],
        "map:P-SCJ": "X-SCJ",
        "map:P-GAT": "X-GAJ",
        "map:P-ZWB": "",
        "_csrf_token": csrf,
    }
    confirm = client.post(f"{base}/confirm", data=choice)
    assert confirm.status_code == 200
    assert "将认领 2 项省级标准事项" in confirm.text
    assert "测试省公安厅" in confirm.text and "县公安局" in confirm.text
    assert _codes(db, world) == set()  # nothing yet: the confirm step only says what will happen
    back = client.post(f"{base}/edit", data=choice)
    assert back.status_code == 200
    assert re.search(r'value="T-GA01"[^>]*checked', back.text)
    assert '<option value="X-GAJ" selected>' in back.text
    done = client.post(f"{base}/", data=choice, follow_redirects=False)
    assert done.status_code in (302, 303)
    assert _codes(db, world) == {"T-SC01", "T-GA01"}
    assert _adoptions(db, world) == 1
    result = client.get(done.headers["location"])
    assert result.status_code == 200
    assert "已认领 2 项省级标准事项" in result.text and "居住证签发" in result.text
    # the list now says where each one went
    page = client.get(f"{base}/").text
    row = re.search(r'data-code="T-GA01" data-state="adopted".*?</tr>', page, re.S).group(0)
    assert "已认领" in row and "县公安局" in row
    assert "全部认领（2 项）" in page


def test_an_unmapped_department_refuses_everything_and_keeps_the_choices(
    client, db: Database
) -> None:
    world = new_county(db, admin=True)
    csrf = _sign_in(client, world)
    base = f"/t/{world.slug}/admin/catalog/adopt"
    choice = {"all": "1", "map:P-SCJ": "X-SCJ", "map:P-GAT": "X-GAJ", "_csrf_token": csrf}
    refused = client.post(f"{base}/confirm", data=choice)
    assert refused.status_code == 422
    html = refused.text
    assert 'data-testid="adopt-problems"' in html and "本次没有认领任何事项" in html
    assert "测试省政务服务管理办公室" in html and "部门对应" in html
    assert re.search(r'name="map:P-ZWB"[^>]*aria-invalid="true"', html)
    assert '<option value="X-GAJ" selected>' in html  # what was chosen stays chosen
    assert client.post(f"{base}/", data=choice).status_code == 422
    assert _codes(db, world) == set() and _adoptions(db, world) == 0
    nothing = client.post(f"{base}/confirm", data={"_csrf_token": csrf})
    assert nothing.status_code == 422 and "请先勾选要认领的事项" in nothing.text


def test_adopting_all_then_again_skips_what_is_adopted(client, db: Database) -> None:
    world = new_county(db, admin=True)
    csrf = _sign_in(client, world)
    base = f"/t/{world.slug}/admin/catalog/adopt"
    mapping = {"map:P-GAT": "X-GAJ", "map:P-ZWB": "X-ZWB", "_csrf_token": csrf}
    assert "将认领 4 项" in client.post(f"{base}/confirm", data={"all": "1", **mapping}).text
    client.post(f"{base}/", data={"all": "1", **mapping})
    assert _codes(db, world) == {"T-GA01", "T-SC01", "T-SC02", "T-ZW01"}
    page = client.get(f"{base}/").text
    assert 'data-testid="adopt-all-done"' in page
    again = client.post(f"{base}/", data={"code": ["T-SC01"], **mapping}, follow_redirects=True)
    assert "所选事项都已认领" in again.text
    assert _adoptions(db, world) == 1


def test_local_changes_and_local_items_are_shown(client, db: Database) -> None:
    token = csrf_token(client, "/t/hechi/staff/login")
    client.post(
        "/t/hechi/staff/login",
        data={"username": "hechi-admin", "password": "Demo-2026", "_csrf_token": token},
    )
    html = client.get("/t/hechi/admin/catalog/adopt/").text
    row = re.search(r'data-code="GX-SB01" data-state="overridden".*?</tr>', html, re.S).group(0)
    assert "有本地调整" in row and "HC-SB01" in row and "承诺时限" in row
    assert 'data-testid="adopt-local"' in html and "本地特有" in html


def test_only_the_county_admin_adopts(client, db: Database) -> None:
    world = new_county(db, admin=True)
    csrf = _sign_in(client, world, "clerk")
    base = f"/t/{world.slug}/admin/catalog/adopt"
    assert client.get(f"{base}/").status_code == 403
    assert client.post(f"{base}/", data={"all": "1", "_csrf_token": csrf}).status_code == 403
    assert _codes(db, world) == set()


def test_another_counties_adoption_is_not_found(client, db: Database) -> None:
    world, other = new_county(db, admin=True), new_county(db, admin=True)
    csrf = _sign_in(client, other)
    client.post(
        f"/t/{other.slug}/admin/catalog/adopt/",
        data={"code": ["T-SC01"], "_csrf_token": csrf},
    )
    with db.session(scope=scope_for(other.county)) as s:
        seq = s.scalars(
            select(AuditEntry.seq).where(
                AuditEntry.tenant_id == other.county.id, AuditEntry.action == "catalog.adopt"
            )
        ).one()
    client.cookies.clear()  # signed in to ``world`` only
    _sign_in(client, world)
    assert client.get(f"/t/{world.slug}/admin/catalog/adopt/result/{seq}").status_code == 404
    elsewhere = client.get(f"/t/{other.slug}/admin/catalog/adopt/", follow_redirects=False)
    assert elsewhere.status_code in (302, 303, 401, 403, 404)  # sent to sign in there


def test_the_api_adopts_in_bulk(client, db: Database) -> None:
    world = new_county(db, admin=True)
    admin = bearer(staff_token(db, world.slug, f"{world.slug}-admin"))
    url = f"/api/v1/t/{world.slug}/catalog/adopt"
    refused = client.post(url, json={"codes": None, "departments": {}}, headers=admin)
    assert refused.status_code == 422
    body = refused.json()
    assert body["adopted"] == [] and {p["code"] for p in body["problems"]} == {"T-GA01", "T-ZW01"}
    assert _codes(db, world) == set()
    done = client.post(
        url,
        json={"codes": ["T-SC01", "T-GA01"], "departments": {"P-GAT": "X-GAJ"}},
        headers=admin,
    )
    assert done.status_code == 200, done.text
    assert done.json()["adopted"] == ["T-SC01", "T-GA01"]
    assert done.json()["departments"] == {"P-SCJ": "X-SCJ", "P-GAT": "X-GAJ"}
    again = client.post(url, json={"codes": ["T-SC01"]}, headers=admin)
    assert again.status_code == 200 and again.json()["skipped"] == ["T-SC01"]
    clerk = bearer(staff_token(db, world.slug, f"{world.slug}-clerk"))
    assert client.post(url, json={"codes": None}, headers=clerk).status_code == 403
    schema = client.get("/schema/openapi.json").json()
    assert "post" in schema["paths"]["/api/v1/t/{slug}/catalog/adopt"]


def test_a_province_admin_who_entered_the_county_adopts_and_is_recorded(
    client, db: Database
) -> None:
    world = new_county(db)
    province = world.province.slug
    token = csrf_token(client, f"/t/{province}/staff/login")
    client.post(
        f"/t/{province}/staff/login",
        data={"username": f"{province}-admin", "password": "Demo-2026", "_csrf_token": token},
    )
    base = f"/t/{world.slug}/admin/catalog/adopt"
    assert client.get(f"{base}/", follow_redirects=False).status_code != 200  # not entered yet
    csrf = csrf_token(client, f"/t/{province}/console")
    entered = client.post(
        f"/t/{province}/console/enter/{world.slug}",
        data={"_csrf_token": csrf},
        follow_redirects=False,
    )
    assert entered.status_code in (302, 303), entered.text[:300]
    page = client.get(f"{base}/")
    assert page.status_code == 200 and 'data-testid="entered-banner"' in page.text
    done = client.post(
        f"{base}/", data={"code": ["T-SC01"], "_csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code in (302, 303)
    assert _codes(db, world) == {"T-SC01"}
    with db.session(scope=scope_for(world.county)) as s:
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.tenant_id == world.county.id, AuditEntry.action == "catalog.adopt"
            )
        ).one()
    assert entry.actor_name == "省管理员" and entry.actor_tenant_id == world.province.id


def test_saving_the_editor_unchanged_but_one_field_keeps_only_that_local(
    client, db: Database
) -> None:
    """The county changes 承诺时限 of an adopted item in the editor: the draft holds that and the
    fields already local, not the materials the form sent back as they were (written without
    the keys the province's carry empty) — else the province's later changes to the materials
    would stop reaching the county, unseen."""
    from core.catalog import get_item_by_code
    from core.catalog.models import ItemVersion, VersionState
    from core.tenancy import get_tenant_by_slug
    from web.pages.catalog_admin import _form_from, _shown

    token = csrf_token(client, "/t/hechi/staff/login")
    client.post(
        "/t/hechi/staff/login",
        data={"username": "hechi-admin", "password": "Demo-2026", "_csrf_token": token},
    )
    with db.session(scope=None) as s:
        hechi = get_tenant_by_slug(s, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        item = get_item_by_code(s, hechi, "HC-SB02")
        form = _form_from("HC-SB02", _shown(s, item, None), s)
    assert form["materials"]  # the materials go back and forth as the page shows them
    token = csrf_token(client, "/t/hechi/admin/catalog/items/HC-SB02")
    saved = client.post(
        "/t/hechi/admin/catalog/items/HC-SB02/draft",
        data={**form, "promised_days": "1", "note": "缩短承诺时限", "_csrf_token": token},
        headers={"hx-request": "true"},
    )
    assert saved.status_code == 200, saved.text
    with db.session(scope=scope_for(hechi)) as s:
        item = get_item_by_code(s, hechi, "HC-SB02")
        draft = s.scalar(
            select(ItemVersion).where(
                ItemVersion.item_id == item.id, ItemVersion.state == VersionState.draft
            )
        )
        assert draft is not None
        local = set(draft.content)
    assert draft.content["promised_days"] == 1
    assert local <= {"department", "implementing_body", "contacts", "promised_days"}, local

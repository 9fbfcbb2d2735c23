"""The catalog's rules: versions, adoption and overrides, status history, validation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.catalog import (
    Item,
    ItemConflict,
    ItemVersion,
    adopt_item,
    change_status,
    create_item,
    diff_versions,
    get_item_by_code,
    list_items,
    publish_item,
    save_draft,
)
from core.db import Database
from core.errors import InvalidInput
from core.tenancy import scope_for
from tests.helpers import tenant

BASE = {
    "name": "测试事项",
    "category": "xzxk",
    "department": "HC-RSJ",
    "legal_days": 20,
    "promised_days": 5,
}


def test_every_demo_county_has_a_full_catalog(db: Database) -> None:
    for slug in ("hechi", "bozhou", "cili", "suning", "guangzhou"):
        t = tenant(db, slug)
        with db.session(scope=scope_for(t)) as s:
            items = s.scalars(select(Item).where(Item.live_version_id.is_not(None))).all()
            assert len(items) >= 40
            assert len({i.department_code for i in items}) >= 8
            assert len({i.category for i in items}) >= 7
            assert sum(1 for i in items if i.standard_item_id) >= 10


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"promised_days": 30}, "promised_days"),
        ({"category": "xzfoo"}, "category"),
        ({"department": "NO-SUCH"}, "department"),
        (
            {"materials": [{"name": "证明", "license_type": "moon_passport"}]},
            "materials[0].license_type",
        ),
    ],
)
def test_bad_content_is_refused_naming_the_field(db: Database, changes, field) -> None:
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s, pytest.raises(InvalidInput) as caught:
        create_item(s, hechi, code="HC-BAD", content={**BASE, **changes})
    assert caught.value.field == field


def test_a_live_version_keeps_serving_while_its_draft_is_edited(db: Database) -> None:
    cili = tenant(db, "cili")
    with db.session(scope=scope_for(cili)) as s:
        item = create_item(
            s,
            cili,
            code="CL-T1",
            content={**BASE, "department": "CL-RSJ", "name": "旧名称"},
            publish=True,
        )
        save_draft(s, cili, item, {**BASE, "department": "CL-RSJ", "name": "新名称"})
        s.commit()
        assert get_item_by_code(s, cili, "CL-T1").effective["name"] == "旧名称"
        assert [i.name for i in list_items(s, cili, q="名称").items] == ["旧名称"]
        publish_item(s, cili, item, reason="规范名称")
        s.commit()
        versions = s.scalars(
            select(ItemVersion).where(ItemVersion.item_id == item.id).order_by(ItemVersion.number)
        ).all()
        assert [(v.number, v.state.value) for v in versions] == [
            (1, "superseded"),
            (2, "published"),
        ]
        assert diff_versions(versions[0].effective, versions[1].effective) == [
            ("name", "旧名称", "新名称")
        ]
        assert [i.name for i in list_items(s, cili, q="名称").items] == ["新名称"]


def test_a_province_update_flows_to_adopters_and_keeps_their_overrides(db: Database) -> None:
    anhui, bozhou = tenant(db, "anhui"), tenant(db, "bozhou")
    with db.session(scope=scope_for(anhui)) as s:
        standard = create_item(
            s,
            anhui,
            code="AH-T9",
            content={
                **BASE,
                "department": "ANHUI-ZWB",
                "name": "农机购置补贴申领",
                "category": "xzgf",
                "legal_days": 30,
                "promised_days": 20,
            },
            publish=True,
        )
        s.commit()
    with db.session(scope=scope_for(bozhou)) as s:
        adopt_item(s, bozhou, "AH-T9", overrides={"department": "BZ-NYJ", "promised_days": 10})
        s.commit()
    with db.session(scope=scope_for(anhui)) as s:
        standard = get_item_by_code(s, anhui, "AH-T9")
        save_draft(
            s,
            anhui,
            standard,
            {**standard.effective, "legal_days": 25, "name": "农机购置与应用补贴申领"},
        )
        publish_item(s, anhui, standard)
        s.commit()
        assert get_item_by_code(s, anhui, "AH-T9").effective["promised_days"] == 20
    with db.session(scope=scope_for(bozhou)) as s:
        local = get_item_by_code(s, bozhou, "AH-T9")
        assert local.effective["name"] == "农机购置与应用补贴申领"
        assert local.effective["legal_days"] == 25
        assert local.effective["promised_days"] == 10
        assert local.department_code == "BZ-NYJ"


def test_a_county_cannot_reach_its_provinces_item_only_adopt_it(db: Database) -> None:
    from core.catalog import ItemNotFound

    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        with pytest.raises(ItemNotFound):
            get_item_by_code(s, hechi, "GX-SB01")
        with pytest.raises(ItemConflict):  # already adopted by the demo pack
            adopt_item(s, hechi, "GX-SB01", overrides={"department": "HC-RSJ"}, code="HC-SB01")
        with pytest.raises(InvalidInput, match="实施部门"):
            adopt_item(s, hechi, "GX-SB01", overrides={}, code="HC-SB01-X")


def test_status_changes_need_a_reason_and_leave_the_active_list(db: Database) -> None:
    suning = tenant(db, "suning")
    with db.session(scope=scope_for(suning)) as s:
        item = get_item_by_code(s, suning, "SN-JY02")
        with pytest.raises(InvalidInput):
            change_status(s, suning, item, "cancel", reason=" ")
        with pytest.raises(InvalidInput):
            change_status(s, suning, item, "delegate", reason="下放乡镇")  # where to?
        change_status(
            s, suning, item, "delegate", reason="下放乡镇办理", target="梁村镇便民服务中心"
        )
        s.commit()
        assert "SN-JY02" not in {i.code for i in list_items(s, suning, limit=500).items}
        delegated = list_items(s, suning, status="delegated").items
        assert [i.code for i in delegated] == ["SN-JY02"]


def test_search_finds_two_character_words_and_tolerates_punctuation(db: Database) -> None:
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        social = {i.name for i in list_items(s, hechi, q="社保", limit=100).items}
        assert "社保卡申领" in social and "社会保险登记" in social
        assert "户口迁出" in {i.name for i in list_items(s, hechi, q="户口").items}
        assert "企业设立登记" in {i.name for i in list_items(s, hechi, q="营业").items}
        assert list_items(s, hechi, q="，。！").total == 0
        assert list_items(s, hechi, q="").total == 0
        assert list_items(s, hechi, q="量子纠缠").total == 0
        count = s.scalar(select(func.count()).select_from(Item))
        assert count and count >= 40


def test_the_benchmark_generator_builds_searchable_published_items(empty_db: Database) -> None:
    from core.db import PLATFORM
    from core.packs import apply_packs, load_packs
    from tests.benchmarks.generate import generate_catalog
    from tests.conftest import TENANTS

    with empty_db.session(scope=PLATFORM) as s:
        apply_packs(s, load_packs(TENANTS / "guangxi"))
        apply_packs(s, load_packs(TENANTS / "hechi"))
        s.commit()
    hechi = tenant(empty_db, "hechi")
    with empty_db.session(scope=scope_for(hechi)) as s:
        before = list_items(s, hechi, limit=1).total
        assert generate_catalog(s, hechi, 500, batch=120) == 500
        s.commit()
        assert list_items(s, hechi, limit=1).total == before + 500
        found = list_items(s, hechi, q="殡葬", limit=1000)
        assert found.total > 0 and all("殡葬" in i.name for i in found.items)
        item = get_item_by_code(s, hechi, "GEN-000123")
        assert item.effective["name"].endswith("（第123号）")


def test_a_version_with_a_future_validity_window_goes_live_on_its_day(db: Database) -> None:
    from datetime import date, timedelta

    from core.catalog import activate_scheduled

    guangzhou = tenant(db, "guangzhou")
    start = date.today() + timedelta(days=30)
    with db.session(scope=scope_for(guangzhou)) as s:
        item = get_item_by_code(s, guangzhou, "GZ-WJ03")
        save_draft(s, guangzhou, item, {**item.effective, "promised_days": 3})
        version = publish_item(s, guangzhou, item, valid_from=start, reason="新规定下月施行")
        s.commit()
        assert version.state.value == "scheduled"
        assert get_item_by_code(s, guangzhou, "GZ-WJ03").promised_days != 3
        assert activate_scheduled(s, today=start - timedelta(days=1)) == 0
        assert activate_scheduled(s, today=start) == 1
        s.commit()
        live = get_item_by_code(s, guangzhou, "GZ-WJ03")
        assert live.promised_days == 3 and live.live_version_id == version.id

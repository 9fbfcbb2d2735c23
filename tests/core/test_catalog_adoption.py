"""Adopting the province's standard catalog, many items at once (认领省级标准事项)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from core.audit import AuditEntry, verify_chain
from core.catalog import Item, list_items, publish_item, save_draft
from core.catalog.adoption import (
    adopt_standard,
    names_match,
    plan_adoption,
    standard_vs_local,
    suggest_departments,
)
from core.db import Database
from core.errors import InvalidInput
from core.tenancy import scope_for
from tests.adoption_world import new_county
from tests.helpers import tenant


def _items(database: Database, world) -> dict[str, Item]:
    with database.session(scope=scope_for(world.county)) as s:
        return {i.code: i for i in s.scalars(select(Item))}


def _adoptions(database: Database, world) -> list[AuditEntry]:
    with database.session(scope=scope_for(world.county)) as s:
        return list(
            s.scalars(
                select(AuditEntry).where(
                    AuditEntry.tenant_id == world.county.id, AuditEntry.action == "catalog.adopt"
                )
            )
        )


def test_names_of_the_same_office_at_two_levels_match() -> None:
    places = ["测试省", "测试县"]
    assert names_match("测试省市场监督管理局", "县市场监督管理局", places)
    assert names_match(
        "广西壮族自治区市场监督管理局", "河池市市场监督管理局", ["广西壮族自治区", "河池市"]
    )
    assert names_match("市场监督管理局", "县市场监督管理局")
    assert not names_match("测试省公安厅", "县公安局", places)
    assert not names_match("测试省市场监督管理局", "县公安局", places)


def test_the_mapping_is_suggested_where_the_names_agree(db: Database) -> None:
    world = new_county(db)
    with db.session(scope=scope_for(world.county)) as s:
        assert suggest_departments(s, world.county) == {"P-SCJ": "X-SCJ"}


def test_everything_not_adopted_yet_is_adopted_in_one_go(db: Database) -> None:
    world = new_county(db)
    with db.session(scope=scope_for(world.county)) as s:
        report = adopt_standard(
            s,
            world.county,
            None,
            departments={"P-GAT": "X-GAJ", "测试省政务服务管理办公室": "X-ZWB"},
        )
        s.commit()
    assert report.ok and report.adopted == ["T-GA01", "T-SC01", "T-SC02", "T-ZW01"]
    assert report.departments == {"P-GAT": "X-GAJ", "P-SCJ": "X-SCJ", "P-ZWB": "X-ZWB"}
    items = _items(db, world)
    assert "T-OLD" not in items  # the province cancelled it: not offered
    assert items["T-SC01"].department_code == "X-SCJ"  # suggested
    assert items["T-GA01"].department_code == "X-GAJ"  # told, by code
    assert items["T-ZW01"].department_code == "X-ZWB"  # told, by the department's name
    assert items["T-SC01"].effective["implementing_body"] == "县市场监督管理局"
    assert items["T-SC01"].standard_item_id is not None
    # the citizen finds the adopted item under the county's department
    with db.session(scope=scope_for(world.county)) as s:
        found = list_items(s, world.county, q="食品经营")
        assert [i.code for i in found.items] == ["T-SC01"]
        rows = {r.standard_code: r for r in standard_vs_local(s, world.county)}
    assert (
        rows["T-SC01"].state == "adopted"
        and rows["T-SC01"].local_department_name == "县市场监督管理局"
    )
    entries = _adoptions(db, world)
    assert len(entries) == 1 and report.audit_seq == entries[0].seq
    assert entries[0].after["codes"] == report.adopted
    with db.session(scope=scope_for(world.county)) as s:
        assert verify_chain(s, world.county).intact


def test_selected_items_only_and_already_adopted_ones_skipped(db: Database) -> None:
    world = new_county(db)
    with db.session(scope=scope_for(world.county)) as s:
        first = adopt_standard(s, world.county, None, codes=["T-SC01"])
        s.commit()
        again = adopt_standard(s, world.county, None, codes=["T-SC01", "T-SC02", "T-SC02"])
        s.commit()
        nothing = adopt_standard(s, world.county, None, codes=["T-SC01"])
        s.commit()
    assert first.adopted == ["T-SC01"]
    assert again.adopted == ["T-SC02"] and again.skipped == ["T-SC01"]
    assert nothing.ok and nothing.adopted == [] and nothing.skipped == ["T-SC01"]
    assert nothing.audit_seq is None
    assert set(_items(db, world)) == {"T-SC01", "T-SC02"}
    assert len(_adoptions(db, world)) == 2  # nothing adopted: nothing recorded


def test_an_unmapped_department_adopts_nothing_and_names_each_item(db: Database) -> None:
    world = new_county(db)
    with db.session(scope=scope_for(world.county)) as s:
        report = adopt_standard(s, world.county, None)  # 公安厅 and 办公室 have no namesake
        s.commit()
    assert not report.ok and report.adopted == []
    assert {p.code for p in report.problems} == {"T-GA01", "T-ZW01"}
    problem = next(p for p in report.problems if p.code == "T-GA01")
    assert problem.name == "居住证签发" and "测试省公安厅" in problem.message
    assert "部门对应" in problem.message
    assert _items(db, world) == {}  # all or nothing: T-SC01 and T-SC02 were fine, yet not adopted
    assert _adoptions(db, world) == []


def test_wrong_codes_and_departments_are_named_in_chinese(db: Database) -> None:
    world = new_county(db)
    with db.session(scope=scope_for(world.county)) as s:
        report = adopt_standard(
            s,
            world.county,
            None,
            codes=["T-SC01", "NO-SUCH", "T-OLD"],
            departments={"P-SCJ": "X-NOPE", "没有的部门": "X-GAJ"},
        )
    messages = [p.message for p in report.problems]
    assert "省级没有已发布的标准事项 NO-SUCH" in messages
    assert "省级没有已发布的标准事项 T-OLD" in messages
    assert "省级没有「没有的部门」这个部门" in messages
    assert "「X-NOPE」不是本地的部门，请重新选择" in messages
    assert _items(db, world) == {}


def test_an_own_item_holding_the_code_is_a_problem(db: Database) -> None:
    from core.catalog import create_item

    world = new_county(db)
    with db.session(scope=scope_for(world.county)) as s:
        create_item(
            s,
            world.county,
            code="T-SC02",
            content={"name": "本县自己的事项", "category": "xzxk", "department": "X-SCJ"},
            publish=True,
        )
        s.commit()
        plan = plan_adoption(s, world.county, codes=["T-SC01", "T-SC02"])
    assert [p.code for p in plan.problems] == ["T-SC02"]
    assert "本地已有编码为 T-SC02 的事项" in plan.problems[0].message


def test_the_side_by_side_view_shows_overrides_and_local_items(db: Database) -> None:
    from core.catalog import create_item, get_item_by_code

    world = new_county(db)
    with db.session(scope=scope_for(world.county)) as s:
        adopt_standard(s, world.county, None, codes=["T-SC01", "T-SC02"])
        item = get_item_by_code(s, world.county, "T-SC02")
        save_draft(
            s,
            world.county,
            item,
            {**item.effective, "promised_days": 3, "contacts": "县市场监督管理局 0778-1"},
        )
        publish_item(s, world.county, get_item_by_code(s, world.county, "T-SC02"))
        create_item(
            s,
            world.county,
            code="X-OWN1",
            content={"name": "村级小额项目备案", "category": "xzba", "department": "X-ZWB"},
            publish=True,
        )
        s.commit()
        rows = standard_vs_local(s, world.county)
    by_code = {r.standard_code or r.local_code: r for r in rows}
    assert [r.standard_code for r in rows if r.standard_code] == [
        "T-GA01",
        "T-SC01",
        "T-SC02",
        "T-ZW01",
    ]
    assert by_code["T-GA01"].state == "not_adopted" and by_code["T-GA01"].state_label == "未认领"
    assert by_code["T-GA01"].province_department_name == "测试省公安厅"
    assert by_code["T-GA01"].category_name == "行政许可"
    assert by_code["T-SC01"].state == "adopted" and by_code["T-SC01"].overrides == ()
    assert by_code["T-SC02"].state == "overridden"
    assert set(by_code["T-SC02"].overrides) == {"承诺时限", "咨询方式"}
    assert by_code["X-OWN1"].state == "local_only" and by_code["X-OWN1"].state_label == "本地特有"
    assert by_code["X-OWN1"].local_department_name == "县政务服务中心办公室"


def test_the_demo_counties_show_their_local_changes(db: Database) -> None:
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        rows = {r.standard_code: r for r in standard_vs_local(s, hechi) if r.standard_code}
    assert rows["GX-SB01"].local_code == "HC-SB01"
    assert rows["GX-SB01"].state == "overridden"
    assert "承诺时限" in rows["GX-SB01"].overrides and "实施部门" not in rows["GX-SB01"].overrides


def test_a_province_adopts_nothing(db: Database) -> None:
    guangxi = tenant(db, "guangxi")
    with db.session(scope=scope_for(guangxi)) as s, pytest.raises(InvalidInput, match="省级"):
        adopt_standard(s, guangxi, None)


def test_five_hundred_items_adopt_in_seconds(db: Database) -> None:
    import msgspec

    from core.catalog._bulk import publish_batch
    from core.catalog.content import parse_content

    world = new_county(db, province="adoptbulk")  # a province of its own: 504 standard items
    province = world.province
    with db.session(scope=scope_for(province)) as s:
        eff = [
            (
                f"B-{n:03d}",
                msgspec.to_builtins(
                    parse_content(
                        {"name": f"批量事项{n}", "category": "xzxk", "department": "P-SCJ"},
                        categories={"xzxk"},
                        departments={"P-SCJ"},
                    )
                ),
            )
            for n in range(500)
        ]
        if not s.scalar(select(func.count()).select_from(Item).where(Item.code == "B-000")):
            publish_batch(s, province, eff, [], reason="批量")
            s.commit()
    with db.session(scope=scope_for(world.county)) as s:
        started = time.monotonic()
        report = adopt_standard(
            s, world.county, None, departments={"P-GAT": "X-GAJ", "P-ZWB": "X-ZWB"}
        )
        s.commit()
        took = time.monotonic() - started
        assert report.ok and len(report.adopted) == 504
        assert took < 10, took
        count = s.scalar(
            select(func.count()).select_from(Item).where(Item.tenant_id == world.county.id)
        )
        assert count == 504
        assert list_items(s, world.county, q="批量事项").total == 500

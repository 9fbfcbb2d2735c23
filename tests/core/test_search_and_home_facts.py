"""Search as people type it (synonyms, run-together words) and the home page's figures, each
recounted from the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from core.cases import clock
from core.cases.models import Case, CaseState
from core.catalog import Item, ItemStatus, list_items
from core.catalog.search import plan_search, segment
from core.catalog.synonyms import synonyms_for
from core.db import Database, forget_remembered
from core.portal import footer_facts, home_facts, hot_items
from core.tenancy import OrgUnit, OrgUnitKind, scope_for
from tests.cases.conftest import Desk
from tests.helpers import tenant


def _codes(db: Database, slug: str, q: str) -> set[str]:
    t = tenant(db, slug)
    with db.session(scope=scope_for(t)) as s:
        return {i.code for i in list_items(s, t, q=q, limit=100).items}


def test_synonyms_find_what_the_catalog_calls_otherwise(db: Database) -> None:
    # 基本医疗保险关系转移接续 never says 医保: the synonym 医疗保险 finds it
    assert {"HC-YB01", "HC-YB02"} <= _codes(db, "hechi", "医保")
    assert {"HC-GJJ01", "HC-GJJ02"} <= _codes(db, "hechi", "公积金")
    assert "HC-SB01" in _codes(db, "hechi", "社会保险")
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        page = list_items(s, hechi, q="医保")
        assert ("医保", "医疗保险") in page.synonyms


def test_the_words_people_use_find_the_items_named_otherwise(db: Database) -> None:
    """What a citizen typed on the phone and found nothing for: the catalog says 户口 (not
    户籍), 户口簿 (户口本), 补领 (补办, 丢了), and a business licence is issued by 企业设立登记
    or 个体工商户注册登记, not by an item named 营业执照."""
    assert "HC-HJ01" in _codes(db, "hechi", "户籍")
    assert "HC-HJ04" in _codes(db, "hechi", "户口本")
    assert "HC-HJ04" in _codes(db, "hechi", "补办")
    assert "HC-HJ04" in _codes(db, "hechi", "户口本丢了")
    assert "HC-SC03" in _codes(db, "hechi", "开餐馆")
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        names = {i.name for i in list_items(s, hechi, q="营业执照", limit=50).items}
        assert {"企业设立登记", "个体工商户注册登记", "营业执照变更登记"} <= names, names


def test_a_county_adds_its_own_synonyms_in_its_settings(db: Database) -> None:
    # tenants/hechi/tenant.toml: 丧葬费 = 殡葬补贴; Bozhou has no such word
    assert "HC-MZ06" in _codes(db, "hechi", "丧葬费")
    assert _codes(db, "bozhou", "丧葬费") == set()
    merged = synonyms_for({"search_synonyms": {"老年卡": ["高龄津贴", " "], "bad": 3}})
    assert merged["老年卡"] == ("高龄津贴",) and "bad" not in merged and merged["医保"]


def test_run_together_words_are_segmented_when_the_query_as_typed_finds_nothing(
    db: Database,
) -> None:
    assert segment("户口迁移市外") == ["户口", "迁移", "市外"]
    assert segment("我要提取公积金") == ["提取", "公积金"]
    assert segment("迁户口") == ["迁", "户口"]
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        page = list_items(s, hechi, q="户口迁移市外")
        assert "HC-HJ01" in {i.code for i in page.items}
        assert page.segments == ("户口", "迁移", "市外")
        exact = list_items(s, hechi, q="户口迁移")  # found as typed: no segments said
        assert "HC-HJ01" in {i.code for i in exact.items} and exact.segments == ()
        assert list_items(s, hechi, q="量子纠缠").total == 0
    assert "HC-GJJ01" in _codes(db, "hechi", "我要提取公积金")


def test_a_plain_query_stays_one_statement_of_its_own_terms() -> None:
    plan = plan_search("营业")
    assert plan is not None and plan.alternatives == (("营业",),) and plan.synonyms == ()
    assert plan_search("，。！") is None
    # 住房公积金 holds 公积金: nothing is replaced inside it
    whole = plan_search("住房公积金")
    assert whole is not None and whole.synonyms == ()


def _recount_hot(s, hechi) -> list[tuple[str, int]]:
    since = clock.now() - timedelta(days=90)
    live = select(Item.code).where(
        Item.tenant_id == hechi.id,
        Item.status == ItemStatus.active,
        Item.live_version_id.is_not(None),
    )
    rows = s.execute(
        select(Case.item_code, func.count())
        .where(Case.tenant_id == hechi.id, Case.submitted_at >= since, Case.item_code.in_(live))
        .group_by(Case.item_code)
    ).all()
    return sorted(((c, int(n)) for c, n in rows), key=lambda r: (-r[1], r[0]))


def test_hot_items_are_ordered_by_real_applications(db: Database) -> None:
    desk = Desk(db, "hechi")
    citizen = desk.citizen("13800000008")
    for _ in range(3):
        desk.apply(citizen, "HC-GJJ01")
    desk.apply(citizen, "HC-YB02", submit=False)  # a draft is no application
    with desk.session() as s:
        expected = _recount_hot(s, desk.tenant)
        hot = hot_items(s, desk.tenant, limit=100)
        assert [(h.code, h.applications) for h in hot] == expected
        assert dict(expected)["HC-GJJ01"] >= 3 and "HC-YB02" not in dict(expected)
        forget_remembered()
        facts = home_facts(s, desk.tenant)
        assert [(h.code, h.applications) for h in facts.hot] == expected[: len(facts.hot)]
        assert facts.hot_days == 90


def test_a_tenant_without_applications_has_no_hot_items(db: Database) -> None:
    hebei = tenant(db, "hebei")  # a province: nobody applies there
    with db.session(scope=scope_for(hebei)) as s:
        assert hot_items(s, hebei) == []


def test_home_facts_count_what_the_database_holds(db: Database) -> None:
    hechi = tenant(db, "hechi")
    forget_remembered()
    with db.session(scope=scope_for(hechi)) as s:
        facts = home_facts(s, hechi)
        live = [
            i
            for i in s.scalars(select(Item).where(Item.live_version_id.is_not(None)))
            if i.status is ItemStatus.active
        ]
        persons = [i for i in live if "person" in i.audience.split()]
        enterprises = [i for i in live if "enterprise" in i.audience.split()]
        assert facts.person_total == len(persons) and facts.enterprise_total == len(enterprises)
        assert facts.enterprise_total >= 10 and facts.person_total >= 20
        assert {f.code for f in facts.enterprise} <= {i.code for i in enterprises}
        assert {f.code for f in facts.person} <= {i.code for i in persons}
        assert "HC-SC01" in {i.code for i in enterprises}  # 企业设立登记 is for legal persons
        by_category: dict[str, int] = {}
        by_department: dict[str, int] = {}
        for i in live:
            by_category[i.category] = by_category.get(i.category, 0) + 1
            by_department[i.department_code] = by_department.get(i.department_code, 0) + 1
        assert {c.code: c.items for c in facts.categories} == by_category
        assert {d.code: d.items for d in facts.departments if d.items} == by_department
        themes = {t.name: t.items for t in facts.themes}
        for name in (
            "生育",
            "入学",
            "就业",
            "婚姻",
            "住房",
            "社保",
            "医疗",
            "养老",
            "出行",
            "身后事",
        ):
            assert themes[name] >= 2, name
        assert themes["企业开办"] == 4


def test_footer_figures_equal_the_database_counts(db: Database) -> None:
    desk = Desk(db, "hechi")
    forget_remembered()
    with desk.session() as s:
        year = clock.today().year
        start = datetime(year, 1, 1, tzinfo=clock.TZ)
        end = datetime(year + 1, 1, 1, tzinfo=clock.TZ)
        finished = s.scalar(
            select(func.count())
            .select_from(Case)
            .where(
                Case.state.in_((CaseState.completed, CaseState.delivered)),
                Case.completed_at >= start,
                Case.completed_at < end,
            )
        )
        departments = s.scalar(
            select(func.count()).select_from(OrgUnit).where(OrgUnit.kind == OrgUnitKind.department)
        )
        items = s.scalar(
            select(func.count())
            .select_from(Item)
            .where(Item.status == ItemStatus.active, Item.live_version_id.is_not(None))
        )
        footer = footer_facts(s, desk.tenant)
        assert (footer.departments, footer.items, footer.finished_this_year) == (
            departments,
            items,
            finished,
        )
        assert footer.year == year

"""Suning's local procedures as a plugin: enabling it adds the county's village-level items to
its catalog (and no other county's), with their forms; their three-level process travels
village → township → county; the county's 低保 rule — income per head worked out from the
household table — refuses a bad application naming each field and row; and disabling it takes
the items out of service while filed cases go on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from core.cases.models import CaseTask, TaskState
from core.cases.service import Applicant, Consent
from core.catalog import Item
from core.catalog.models import ItemStatus
from core.errors import Conflict, InvalidInput
from core.plugins import get_plugin_manager
from plugins.local_suning import Config, validate_form
from tests.cases.conftest import Desk
from tests.form_values import id_number

GRANDPA = id_number("130926", "19520302", 11)
GRANDMA = id_number("130926", "19541115", 12)
GRANDSON = id_number("130926", "20120901", 13)


def household(**changes: Any) -> dict[str, Any]:
    """刘大爷's application as the village agent types it: three people, 5400 yuan last year
    between them — 1800 a head, under the county's 4200."""
    form: dict[str, Any] = {
        "applicant_name": "刘大爷",
        "applicant_id_number": GRANDPA,
        "contact_phone": "13900000088",
        "township": "liangcun",
        "village": "张庄村",
        "reason": "illness",
        "household_size": "3",
        "members": [
            {
                "name": "刘大爷",
                "relation": "self",
                "id_number": GRANDPA,
                "health": "serious",
                "income": "3000",
            },
            {
                "name": "王大娘",
                "relation": "spouse",
                "id_number": GRANDMA,
                "health": "chronic",
                "income": "2400",
            },
            {
                "name": "刘小宝",
                "relation": "grandchild",
                "id_number": GRANDSON,
                "health": "healthy",
                "income": "0",
            },
        ],
        "has_vehicle": "否",
        "has_other_house": "否",
        "savings": "1500",
        "consent": "是",
        "bank_name": "肃宁县农村信用合作联社梁村信用社",
        "bank_account": "6228480000000000000",
    }
    form.update(changes)
    return form


def member(row: int, **changes: Any) -> list[dict[str, Any]]:
    rows = [dict(r) for r in household()["members"]]
    rows[row].update(changes)
    return rows


GOOD = household()


@pytest.fixture
def suning(db) -> Iterator[Desk]:
    d = Desk(db, "suning")
    manager = get_plugin_manager()
    with d.session() as s:
        manager.set_enabled(s, d.tenant, "local_suning", True)
        s.commit()
    yield d
    with d.session() as s:
        manager.set_enabled(s, d.tenant, "local_suning", False)
        s.commit()


def _status(d: Desk, code: str) -> ItemStatus | None:
    with d.session() as s:
        return s.scalar(select(Item.status).where(Item.tenant_id == d.tenant.id, Item.code == code))


def _agent_files(d: Desk, form: dict[str, Any]) -> str:
    return d.apply(
        d.staff("suning-agent"),
        "SN-CJ01",
        form=form,
        applicant=Applicant(phone="13900000088", name="刘大爷", id_number=None),
        consent=Consent(method="signed_form", note="授权书已留存"),
    )


def test_village_items_travel_up_three_levels_under_the_countys_rules(suning: Desk, db) -> None:
    assert _status(suning, "SN-CJ01") is ItemStatus.active
    assert _status(Desk(db, "cili"), "SN-CJ01") is None  # another county never sees them
    with suning.session() as s:
        item = s.scalar(
            select(Item).where(Item.tenant_id == suning.tenant.id, Item.code == "SN-CJ01")
        )
        (members,) = [f for f in item.effective["form"] if f["key"] == "members"]
        assert [c["key"] for c in members["columns"]] == [
            "name",
            "relation",
            "id_number",
            "health",
            "income",
        ]
    # the core's checks pass (every field there and well formed), the county's rule does not:
    # the grandson is listed under his grandmother's ID number, two people are declared for
    # three rows, and 9000 + 2400 + 1600 yuan over two people is 6500 a head
    rows = member(0, income="9000")
    rows[2].update(id_number=GRANDMA, income="1600")
    with pytest.raises(InvalidInput) as refused:
        _agent_files(suning, household(household_size="2", members=rows))
    assert refused.value.fields == [
        "form.members[2].id_number",
        "form.household_size",
        "form.members",
    ]
    assert "6500.00 元" in refused.value.detail and "低保标准（4200 元）" in refused.value.detail
    number = _agent_files(suning, GOOD)
    case = suning.case(number)
    assert case.definition["code"] == "sn_three_level" and case.channel == "agent"

    def open_step() -> str:
        with suning.session() as s:
            (task,) = s.scalars(
                select(CaseTask).where(
                    CaseTask.case_id == case.id, CaseTask.state == TaskState.open
                )
            ).all()
            return task.step

    assert open_step() == "township"  # the agent's collection is done by filing
    suning.act(suning.staff("suning-township"), number, "forward")
    assert open_step() == "accept"
    suning.act(suning.staff("suning-clerk"), number, "accept")
    done = suning.act(suning.staff("suning-lianban"), number, "approve")
    assert (done.state.value, done.decision) == ("completed", "approved")


def test_disabling_the_plugin_takes_its_items_out_of_service(suning: Desk) -> None:
    number = _agent_files(suning, GOOD)
    manager = get_plugin_manager()
    with suning.session() as s:
        manager.set_enabled(s, suning.tenant, "local_suning", False)
        s.commit()
    assert _status(suning, "SN-CJ01") is ItemStatus.cancelled
    with pytest.raises(Conflict):  # no new applications
        _agent_files(suning, GOOD)
    suning.act(suning.staff("suning-township"), number, "forward")  # filed cases go on
    with suning.session() as s:
        manager.set_enabled(s, suning.tenant, "local_suning", True)
        s.commit()
    assert _status(suning, "SN-CJ01") is ItemStatus.active


def _rule(form: dict[str, Any], limit: str = "4200") -> list[tuple[str, str]]:
    problems = validate_form(config=Config(income_limit=limit), item="SN-CJ01", form=form)
    return [(p["field"], p["message"]) for p in problems]


def test_the_low_income_rule_works_out_income_per_head_from_the_household_table() -> None:
    """As the core hands it over (numbers converted, money as exact strings): 5400 yuan over
    three people is 1800 a head; at the limit is still in; a row at fault is named by row."""
    typed = household(household_size=3, consent=True)
    assert _rule(typed) == []
    assert _rule(typed, limit="1800") == []  # at the standard, not above it
    (over,) = _rule(typed, limit="1799.99")
    assert over[0] == "members" and "1800.00 元（全家上年收入 5400.00 元 ÷ 3 人）" in over[1]
    assert [f for f, _ in _rule(household(members=member(1, income="两千")))] == [
        "members[1].income"
    ]
    assert [f for f, _ in _rule(household(members=member(0, relation="child")))] == ["members"]
    assert [f for f, _ in _rule(household(members=member(0, id_number=GRANDSON)))] == [
        "members[2].id_number",  # listed twice
        "members[0].id_number",  # and 本人 is not the applicant
    ]
    assert [f for f, _ in _rule(household(consent=False))] == ["consent"]
    # another county's simpler form may state the figure itself
    assert _rule({"household_size": 2, "income_per_head": "3000"}) == []
    assert [f for f, _ in _rule({"household_size": 2, "income_per_head": "5000"})] == [
        "income_per_head"
    ]
    assert validate_form(config=None, item="SN-CJ02", form={}) == []  # not its item

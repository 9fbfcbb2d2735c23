"""Process definitions are data: validated when saved, resolved tenant → province →
built-in, and drawn on the item page."""

from __future__ import annotations

import copy

import msgspec
import pytest

from core.db import Database
from core.errors import InvalidInput
from core.tenancy import scope_for
from core.workflow import BUILT_IN, parse_definition, resolve_definition, save_definition
from tests.helpers import tenant

SHORT = msgspec.to_builtins(BUILT_IN["short"])


def _broken(change) -> dict:
    raw = copy.deepcopy(SHORT)
    change(raw)
    return raw


@pytest.mark.parametrize(
    "change, field",
    [
        (
            lambda d: d["steps"].append(
                {"code": "orphan", "name": "孤立", "role": "reviewer", "actions": ["review"]}
            ),
            "steps.orphan",
        ),
        (lambda d: d["steps"][1].update(next=["nowhere"]), "steps.review.next"),
        (lambda d: d["steps"][2].update(next=["accept"]), "steps.approve.next"),
        (lambda d: d["steps"][1].update(actions=[]), "steps.review"),
        (lambda d: d["steps"][2].update(join=True), "steps.approve.join"),
        (lambda d: d.update(start="missing"), "start"),
    ],
)
def test_a_broken_definition_is_refused_naming_the_step(change, field) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_definition(_broken(change))
    assert caught.value.field == field


def test_a_step_without_a_role_is_refused() -> None:
    raw = _broken(lambda d: d["steps"][1].pop("role"))
    with pytest.raises(InvalidInput, match="role"):
        parse_definition(raw)


def test_the_shipped_shapes_are_valid_and_branch_where_they_should() -> None:
    assert [s.name for s in BUILT_IN["five_post"].steps] == ["申请", "受理", "审核", "审批", "发证"]
    assert [len(layer) for layer in BUILT_IN["joint_review"].layers()] == [1, 2, 1]
    assert [s.level for s in BUILT_IN["village_forward"].steps][:3] == [
        "village",
        "township",
        "county",
    ]
    assert BUILT_IN["joint_review"].total_days() == 1 + 5 + 2


def test_a_county_overrides_its_provinces_default(db: Database) -> None:
    hunan, cili, hechi = tenant(db, "hunan"), tenant(db, "cili"), tenant(db, "hechi")
    province_version = _broken(lambda d: d.update(name="湖南三环节（省定）"))
    county_version = _broken(
        lambda d: (d.update(name="慈利三环节（县定）"), d["steps"][1].update(days=2))
    )
    with db.session(scope=scope_for(hunan)) as s:
        save_definition(s, hunan, province_version)
        s.commit()
    with db.session(scope=scope_for(cili)) as s:
        assert resolve_definition(s, cili, "short").name == "湖南三环节（省定）"
        save_definition(s, cili, county_version)
        s.commit()
        assert resolve_definition(s, cili, "short").step("review").days == 2
    with db.session(scope=scope_for(hechi)) as s:
        assert resolve_definition(s, hechi, "short").name == BUILT_IN["short"].name


def test_an_item_must_name_a_known_definition_and_its_page_draws_it(
    client,
    db: Database,
) -> None:
    from core.catalog import get_item_by_code, publish_item, save_draft

    guangzhou = tenant(db, "guangzhou")
    with db.session(scope=scope_for(guangzhou)) as s:
        item = get_item_by_code(s, guangzhou, "GZ-ZJ01")
        with pytest.raises(InvalidInput) as caught:
            save_draft(s, guangzhou, item, {**item.effective, "process": "no_such_flow"})
        assert caught.value.field == "process"
        save_draft(s, guangzhou, item, {**item.effective, "process": "joint_review"})
        publish_item(s, guangzhou, item)
        s.commit()
    page = client.get("/t/guangzhou/items/GZ-ZJ01").text
    flow = page[
        page.index('data-testid="flow"') : page.index("</ol>", page.index('data-testid="flow"'))
    ]
    for text in ("受理", "部门甲审查", "部门乙审查", "汇总审批", "5 个工作日"):
        assert text in flow
    assert flow.index("部门甲审查") < flow.index("汇总审批")

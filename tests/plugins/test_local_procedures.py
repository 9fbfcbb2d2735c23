"""Suning's local procedures as a plugin: enabling it adds the county's village-level items to
its catalog (and no other county's), their three-level process travels village → township →
county, the county's form rules refuse a bad application naming each field, and disabling
it takes the items out of service while filed cases go on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.cases.models import CaseTask, TaskState
from core.cases.service import Applicant, Consent
from core.catalog import Item
from core.catalog.models import ItemStatus
from core.errors import Conflict, InvalidInput
from core.plugins import get_plugin_manager
from tests.cases.conftest import Desk

GOOD = {"village": "张庄村", "household_size": "3", "income_per_head": "2600"}


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


def _agent_files(d: Desk, form: dict[str, str]) -> str:
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
    with pytest.raises(InvalidInput) as refused:
        _agent_files(suning, {"village": "", "household_size": "0", "income_per_head": "9000"})
    assert refused.value.fields == [
        "form.village",
        "form.household_size",
        "form.income_per_head",
    ]
    assert "低保标准" in refused.value.detail
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

"""审批分离: the person who reviewed a case may not approve or deny it — refused by the engine
(and so by the API) with a Chinese reason, the action hidden on their case page — unless the
county turns the rule off or exempts the item."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select, update

from core.errors import Forbidden
from core.identity import Role
from core.identity.service import create_staff, grant_role
from core.tenancy import OrgUnit, Tenant
from tests.cases.conftest import Desk
from tests.helpers import csrf_token

ITEM = "HC-SC03"  # 食品经营许可, at 市市场监督管理局 (HC-SCJ): accept → review → approve → issue


def _both_roles(desk: Desk) -> str:
    """A section chief at 市场监管局 holding both the reviewer's and the approver's role."""
    username = f"hechi-chief-{secrets.token_hex(3)}"
    with desk.session() as s:
        unit = s.scalar(select(OrgUnit).where(OrgUnit.code == "HC-SCJ"))
        staff = create_staff(s, desk.tenant, username=username, name="王科长", password="Demo-2026")
        grant_role(s, staff, Role.reviewer, unit)
        grant_role(s, staff, Role.approver, unit)
        s.commit()
    return username


def _reviewed_by(desk: Desk, username: str) -> str:
    number = desk.apply(desk.citizen("13800000008"), ITEM)
    desk.act(desk.staff("hechi-clerk"), number, "accept")
    desk.act(desk.staff(username), number, "review")
    return number


def _settings(desk: Desk, **settings: object) -> None:
    with desk.session() as s:
        current = dict(s.get(Tenant, desk.tenant.id).settings or {})
        current.update(settings)
        s.execute(update(Tenant).where(Tenant.id == desk.tenant.id).values(settings=current))
        s.commit()
    desk.tenant.settings = current


@pytest.fixture
def hechi_desk(db):
    desk = Desk(db, "hechi")
    yield desk
    _settings(desk, separate_review_and_approval=True, separation_exempt_items=[])


def test_the_reviewer_may_not_decide_what_they_reviewed(hechi_desk: Desk, client) -> None:
    chief = _both_roles(hechi_desk)
    number = _reviewed_by(hechi_desk, chief)
    for action in ("approve", "deny"):
        with pytest.raises(Forbidden, match="审核和批准须由不同人员办理"):
            hechi_desk.act(hechi_desk.staff(chief), number, action, reason="不符合条件")
    # the case page offers them nothing to decide, and says why
    token = csrf_token(client, "/t/hechi/staff/login")
    client.post(
        "/t/hechi/staff/login",
        data={"username": chief, "password": "Demo-2026", "_csrf_token": token},
    )
    page = client.get(f"/t/hechi/workbench/cases/{number}").text
    assert 'data-testid="duties-barred"' in page and 'value="approve"' not in page
    # another approver decides
    hechi_desk.act(hechi_desk.staff("hechi-approver"), number, "approve")
    assert hechi_desk.case(number).state.value in ("in_progress", "completed")


def test_a_county_may_exempt_an_item_or_turn_the_rule_off(hechi_desk: Desk) -> None:
    chief = _both_roles(hechi_desk)
    _settings(hechi_desk, separation_exempt_items=[ITEM])
    hechi_desk.act(hechi_desk.staff(chief), _reviewed_by(hechi_desk, chief), "approve")
    _settings(hechi_desk, separation_exempt_items=[], separate_review_and_approval=False)
    hechi_desk.act(hechi_desk.staff(chief), _reviewed_by(hechi_desk, chief), "approve")

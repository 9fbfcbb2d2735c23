"""Staff see the cases of their own units: a department's cases by its staff, the cases a
township centre took in by that centre, every case by the service centre's windows (they
accept for every department), the supervisors and the county admin. Anyone else — a
reviewer of another department, a township clerk — gets the 404 of a case that does not
exist, in the workbench, the API list and every action (an approver of one department could
extend another's deadline)."""

from __future__ import annotations

import pytest

from core.cases.access import get_case
from core.cases.queries import list_cases
from core.cases.service import Applicant, Consent
from core.db import Database
from core.errors import NotFound
from tests.cases.conftest import Desk


@pytest.fixture
def suning(db: Database) -> Desk:
    return Desk(db, "suning")


def _police_case(suning: Desk) -> str:
    """户口迁移 (县公安局), taken in at the county's window."""
    return suning.apply(
        suning.staff("suning-clerk"),
        "SN-HJ01",
        applicant=Applicant(phone="13900007171", name="王测试", id_number=None),
        consent=Consent(method="in_person"),
    )


def test_another_departments_staff_and_a_township_do_not_see_the_case(suning: Desk) -> None:
    number = _police_case(suning)
    for username in ("suning-clerk", "suning-lianban", "suning-supervisor", "suning-admin"):
        with suning.session() as s:  # the window, the police's joint approver, the watchers
            assert get_case(s, number, suning.staff(username)).number == number, username
    for username in ("suning-reviewer", "suning-approver", "suning-issuer", "suning-township"):
        with suning.session() as s:  # 人社局's staff and a township centre's clerk
            with pytest.raises(NotFound):
                get_case(s, number, suning.staff(username))
            listed = list_cases(s, suning.staff(username), limit=100)
            assert number not in [c.number for c in listed.cases], username
    with suning.session() as s:
        assert number in [c.number for c in list_cases(s, suning.staff("suning-clerk")).cases]


def test_an_approver_cannot_extend_another_departments_deadline(suning: Desk) -> None:
    number = _police_case(suning)
    suning.act(suning.staff("suning-clerk"), number, "accept")
    due = suning.case(number).due_on
    with pytest.raises(NotFound):
        suning.act(suning.staff("suning-approver"), number, "extend", days=5, reason="试探")
    assert suning.case(number).due_on == due


def test_a_departments_own_staff_see_its_cases(suning: Desk) -> None:
    number = suning.apply(
        suning.staff("suning-clerk"),
        "SN-SB04",  # 失业保险金申领, 县人社局
        applicant=Applicant(phone="13900007272", name="李测试", id_number=None),
        consent=Consent(method="in_person"),
    )
    for username in ("suning-reviewer", "suning-approver", "suning-issuer"):
        with suning.session() as s:
            assert get_case(s, number, suning.staff(username)).number == number, username
    with suning.session() as s, pytest.raises(NotFound):
        get_case(s, number, suning.staff("suning-township"))

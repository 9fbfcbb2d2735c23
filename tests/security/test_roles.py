"""The role matrix: every case action, tried through the JSON API by every kind of person, on a
case staged so that the action is possible. Who may do it gets a 2xx; everyone else gets 403
(or 404 when they may not even see the case) and the case is left exactly as it was.

The matrix below is the specification; docs/cases.md ("Who may do what") says the same in
words. A new action or case route must be added here — the last test checks that."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from core.cases.action_types import ACTIONS
from core.cases.models import CaseMaterial
from core.cases.service import Applicant, Consent
from core.db import Database
from core.supervision.models import Card, FollowUp
from tests.cases.conftest import Desk
from tests.helpers import account_token, bearer, staff_token

APPLICANT = "13800000001"  # 张伟, a demo citizen of Guangxi
STRANGER = "13800000015"  # another Guangxi citizen, with no business in the case
VILLAGER = "13900000088"
STAFF = ("admin", "clerk", "township", "reviewer", "approver", "issuer", "supervisor", "agent")
PERSONAS = (*STAFF, "applicant", "stranger")
CASE_STAFF = {"admin", "clerk", "township", "reviewer", "approver", "issuer", "supervisor"}
#: staff who see a county case taken in online (core/cases/access.py): not the township
#: centre's clerk, whose cases are the ones that came in through the township
COUNTY_CASE_STAFF = CASE_STAFF - {"township"}


class Stage:
    """Brings a fresh hechi case to the point where an action is possible."""

    def __init__(self, db: Database) -> None:
        self.desk = Desk(db, "hechi")
        self.me = self.desk.citizen(APPLICANT)
        self.p = {name: self.desk.staff(f"hechi-{name}") for name in STAFF}

    def act(self, number: str, who: str, action: str, **fields: Any) -> str:
        self.desk.act(self.p[who], number, action, **fields)
        return number

    def draft(self) -> str:
        return self.desk.apply(self.me, "HC-SC03", submit=False)

    def submitted(self) -> str:
        return self.desk.apply(self.me, "HC-SC03")

    def instant(self) -> str:
        return self.desk.apply(self.me, "HC-SB05")

    def correcting(self) -> str:
        number = self.act(
            self.submitted(),
            "clerk",
            "request_correction",
            reason="补正",
            materials=[{"index": 0, "reason": "不清晰"}],
        )
        self.desk.upload(self.me, number, 0)
        return number

    def at_review(self) -> str:
        return self.act(self.submitted(), "clerk", "accept")

    def at_approve(self) -> str:
        return self.act(self.at_review(), "reviewer", "review")

    def at_issue(self) -> str:
        return self.act(self.at_approve(), "approver", "approve")

    def completed(self) -> str:
        return self.act(self.at_issue(), "issuer", "issue")

    def completed_by_courier(self) -> str:
        number = self.desk.apply(
            self.me, "HC-SC03", delivery="courier", address="广西河池市金城江区新建路 18 号"
        )
        for who, action in (("clerk", "accept"), ("reviewer", "review"), ("approver", "approve")):
            self.act(number, who, action)
        return self.act(number, "issuer", "issue")

    def suspended(self) -> str:
        return self.act(
            self.at_review(), "reviewer", "suspend", kind="hearing", days=5, reason="听证"
        )

    def at_township(self) -> str:
        return self.desk.apply(
            self.p["agent"],
            "HC-MZ05",
            applicant=Applicant(phone=VILLAGER, name="覃奶奶", id_number=None),
            consent=Consent(method="signed_form", note="授权书已留存"),
        )

    def unpaid(self) -> str:
        number = self.desk.apply(
            self.p["clerk"],
            "HC-ZR01",  # 100 yuan, filed at the counter for the citizen
            applicant=Applicant(phone=APPLICANT, name="张伟"),
            consent=Consent(method="in_person"),
        )
        return self.act(number, "clerk", "accept")


@dataclass(frozen=True)
class Row:
    what: str
    stage: Callable[[Stage], str]
    allowed: frozenset[str]
    body: dict[str, Any] = field(default_factory=dict)
    route: str = "actions"


def _row(action: str, stage: Callable[[Stage], str], allowed: set[str], **body: Any) -> Row:
    return Row(action, stage, frozenset(allowed), {"action": action, **body})


def _route(route: str, stage: Callable[[Stage], str], allowed: set[str], **body: Any) -> Row:
    return Row(route, stage, frozenset(allowed), body, route)


MATRIX = [
    # steps: the staff holding the step's role in its unit (or a unit under it)
    _row("accept", Stage.submitted, {"clerk"}),
    _row(
        "request_correction",
        Stage.submitted,
        {"clerk"},
        reason="补正",
        materials=[{"index": 1, "reason": "过期"}],
    ),
    _row("refuse", Stage.submitted, {"clerk"}, reason="不符合条件"),
    _row("decide", Stage.instant, {"clerk"}),
    _row("forward", Stage.at_township, {"township"}),
    _row("review", Stage.at_review, {"reviewer"}),
    _row("return", Stage.at_review, {"reviewer"}, reason="退回"),
    _row("approve", Stage.at_approve, {"approver"}),
    _row("deny", Stage.at_approve, {"approver"}, reason="不予批准"),
    _row("issue", Stage.at_issue, {"issuer"}),
    # the whole case
    _row("claim", Stage.submitted, {"clerk"}),
    _row("comment", Stage.at_review, COUNTY_CASE_STAFF, reason="已电话联系申请人"),
    _row(
        "suspend", Stage.at_review, {"reviewer", "approver"}, kind="hearing", days=3, reason="听证"
    ),
    _row("resume", Stage.suspended, {"reviewer", "approver"}, reason="听证结束"),
    _row("extend", Stage.at_review, {"approver"}, days=2, reason="情况复杂"),
    _row("pay", Stage.unpaid, {"clerk"}, amount="100"),
    _row("deliver", Stage.completed, {"clerk", "issuer"}),
    _row("to_pickup", Stage.completed_by_courier, {"clerk", "issuer"}),
    # 即办 by a delegated 首席代表 only: 河池 delegates nobody, so every role is refused
    # (a delegate deciding on the spot in Cili: tests/cases/test_available.py)
    _row("chief_decide", Stage.submitted, set()),
    # the applicant's own routes
    _route("submit", Stage.draft, {"applicant"}),
    _route("correct", Stage.correcting, {"applicant"}),
    _route("withdraw", Stage.submitted, {"applicant"}, reason="不办了"),
    _route("rate", Stage.completed, {"applicant"}, score=100),
    _route("complaint", Stage.at_review, {"applicant"}, text="窗口态度不好"),
    _route("materials", Stage.draft, {"applicant"}),
    # supervision and the counter's rating pad
    _route("supervision", Stage.at_review, {"supervisor", "admin"}, kind="note", reason="督办"),
    _route("counter-rating", Stage.completed, {"clerk"}, score=100),
]

#: case routes not in the matrix, and where their role rule is tested instead
ELSEWHERE = {
    "payment": "online payment needs a provider plugin: tests/cases/test_payments.py",
    "materials/reuse": "the filer rule of materials; reuse: tests/cases/test_materials.py",
    "form/reveal": "whoever of the staff sees the case, never the applicant: "
    "tests/cases/test_forms.py",
}


def _tokens(db: Database) -> dict[str, str]:
    tokens = {name: staff_token(db, "hechi", f"hechi-{name}") for name in STAFF}
    tokens["applicant"] = account_token(db, "hechi", APPLICANT)
    tokens["stranger"] = account_token(db, "hechi", STRANGER)
    return tokens


def _try(client, row: Row, number: str, token: str):
    path = f"/api/v1/t/hechi/cases/{number}/{row.route}"
    if row.route == "materials":
        return client.post(
            path,
            files={"file": ("a.pdf", io.BytesIO(b"%PDF-1.4\n" + b"0" * 100), "application/pdf")},
            data={"index": "0"},
            headers=bearer(token),
        )
    return client.post(path, json=row.body, headers=bearer(token))


def _fingerprint(stage: Stage, number: str) -> tuple[Any, ...]:
    """What anyone could notice about a case: its row, its materials, its follow-ups."""
    case = stage.desk.case(number)
    with stage.desk.session() as s:
        counts = tuple(
            s.scalar(select(func.count()).select_from(model).where(model.case_id == case.id))
            for model in (CaseMaterial, FollowUp, Card)
        )
    return (case.state.value, case.version, case.event_count, case.fee_status, case.rating, counts)


@pytest.mark.parametrize("row", MATRIX, ids=lambda r: r.what)
def test_only_the_right_people_may(row: Row, client, db: Database) -> None:
    stage, tokens = Stage(db), _tokens(db)
    number = row.stage(stage)
    before = _fingerprint(stage, number)
    for persona in PERSONAS:
        if persona in row.allowed:
            continue
        response = _try(client, row, number, tokens[persona])
        assert response.status_code in (403, 404), (row.what, persona, response.text)
        assert _fingerprint(stage, number) == before, (row.what, persona, "changed the case")
    for n, persona in enumerate(sorted(row.allowed)):
        target = number if n == 0 else row.stage(stage)
        prior = _fingerprint(stage, target)
        response = _try(client, row, target, tokens[persona])
        assert 200 <= response.status_code < 300, (row.what, persona, response.text)
        assert _fingerprint(stage, target) != prior, (row.what, persona, "did nothing")


def test_the_matrix_covers_every_action_and_case_route(app) -> None:
    actions = {row.what for row in MATRIX if row.route == "actions"}
    assert actions == set(ACTIONS)
    prefix = "/api/v1/t/{slug:str}/cases/{number:str}/"
    routes = {
        route.path.removeprefix(prefix)
        for route in app.routes
        if route.path.startswith(prefix) and "POST" in route.methods
    }
    covered = {row.route for row in MATRIX} | set(ELSEWHERE)
    assert routes == covered, routes ^ covered

"""Departments' own approval systems: case events reach them as signed webhooks through the
outbox (retried while the system is down, delivered once), with no personal data; their
decisions come back with a client-credentials token and act only on their own department's
steps, on the trail under the system's name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.cases.models import CaseEvent
from core.db import PLATFORM
from core.errors import InvalidInput
from core.identity.oidc import register_client
from core.notify.outbox import OutboxMessage
from core.notify.relay import deliver
from core.plugins import get_plugin_manager
from tests.cases.conftest import Desk
from tests.fakes import DepartmentSystem

ZHANG = "13800000001"


@pytest.fixture
def hechi(db) -> Desk:
    return Desk(db, "hechi")


@pytest.fixture
def system(hechi: Desk) -> Iterator[DepartmentSystem]:
    fake = DepartmentSystem().start()
    yield fake
    fake.stop()
    with hechi.session() as s:
        get_plugin_manager().set_enabled(s, hechi.tenant, "dept_webhooks", False, {})
        s.commit()


def _client(hechi: Desk, name: str) -> tuple[str, str]:
    with hechi.session() as s:
        client, secret = register_client(
            s, hechi.tenant, name=name, redirect_uris=[], grant_types=["client_credentials"]
        )
        s.commit()
        return client.client_id, secret or ""


def _token(client, client_id: str, secret: str) -> str:
    answer = client.post(
        "/oauth/token", auth=(client_id, secret), data={"grant_type": "client_credentials"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def _webhooks(hechi: Desk, case_id) -> list[OutboxMessage]:
    """The case's webhook rows, once the workers have asked the plugins where its events go."""
    with hechi.session() as s:
        events = s.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.case_id == case_id,
                OutboxMessage.channel == "event",
                OutboxMessage.state == "created",
            )
            .order_by(OutboxMessage.created_at)
        ).all()
    for event_id in events:
        assert _relay(hechi, event_id) == "sent"
    with hechi.session() as s:
        rows = s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case_id, OutboxMessage.channel == "webhook")
            .order_by(OutboxMessage.created_at)
        ).all()
        s.expunge_all()
        return list(rows)


def _relay(hechi: Desk, row_id, at=None) -> str:
    with hechi.db.session(scope=PLATFORM) as s:
        outcome = deliver(s, row_id, at)
        s.commit()
        return outcome


def test_events_go_out_signed_and_decisions_come_back(
    hechi: Desk, system: DepartmentSystem, client
) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SC03", submit=False)
    dept = hechi.case(number).department_code
    ours, ours_secret = _client(hechi, "县市场监管局审批系统")
    others, others_secret = _client(hechi, "县公安局审批系统")
    config = {
        "departments": [
            {
                "code": dept,
                "url": system.url + "/events",
                "secret": system.secret,
                "client_id": ours,
            },
            {"code": "HC-GAJ", "url": system.url + "/gaj", "secret": "x" * 16, "client_id": others},
        ]
    }
    with hechi.session() as s:
        get_plugin_manager().set_enabled(s, hechi.tenant, "dept_webhooks", True, config)
        s.commit()
    from core.cases.service import commit, submit_case

    with hechi.session() as s:
        submit_case(s, hechi.tenant, hechi.citizen(ZHANG), number)
        commit(s)
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    case = hechi.case(number)
    rows = _webhooks(hechi, case.id)
    assert [r.template for r in rows] == ["submit", "accept"]

    system.fail = True  # the department's system is down: the message waits and retries
    assert _relay(hechi, rows[0].id) == "retry"
    waiting = _webhooks(hechi, case.id)[0]
    assert waiting.state == "created" and waiting.attempts == 1 and "HTTP 500" in waiting.error
    system.fail = False
    later = waiting.next_attempt_at + timedelta(seconds=1)
    assert _relay(hechi, rows[0].id, later) == "sent"
    assert _relay(hechi, rows[1].id, later) == "sent"
    assert _relay(hechi, rows[0].id, later) == "skipped"  # delivered once
    assert [e["action"] for e in system.received] == ["submit", "accept"] and system.forged == 0
    sent = system.received[1]
    assert sent["case"] == number and sent["department"] == dept
    assert "张" not in str(sent) and ZHANG not in str(sent)  # no personal data

    url = "/api/v1/t/hechi/departments/decisions"
    theirs = {"Authorization": f"Bearer {_token(client, others, others_secret)}"}
    wrong_department = client.post(url, json={"case": number, "action": "review"}, headers=theirs)
    assert wrong_department.status_code == 404  # another department's case: not theirs to see
    mine = {"Authorization": f"Bearer {_token(client, ours, ours_secret)}"}
    bad = client.post(url, json={"case": number, "action": "withdraw"}, headers=mine)
    assert bad.status_code == 422 and bad.json()["field"] == "action"
    done = client.post(
        url, json={"case": number, "action": "review", "officer": "王科员"}, headers=mine
    )
    assert done.status_code == 200, done.text
    with hechi.session() as s:
        last = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
        ).first()
    assert last.action == "review" and last.actor_name.endswith("审批系统（王科员）")
    assert last.actor_id == ours
    staff_token = client.post(url, json={"case": number, "action": "approve"})
    assert staff_token.status_code == 401


def test_an_unknown_department_cannot_be_configured(hechi: Desk) -> None:
    config = {"departments": [{"code": "HC-NOPE", "url": "https://x.example/", "secret": "s" * 16}]}
    with hechi.session() as s, pytest.raises(InvalidInput) as refused:
        get_plugin_manager().set_enabled(s, hechi.tenant, "dept_webhooks", True, config)
    assert "HC-NOPE" in refused.value.detail

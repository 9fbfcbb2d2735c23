"""Retries that are safe: a client that did not hear its answer sends the request again and
the work is done once — with an ``Idempotency-Key`` (the first answer again; another request
under the same key is a 422), or without one for a transition that went through (the case,
200, not a 409); and a page's form posted twice (its hidden key) does its work once."""

from __future__ import annotations

import io
import re

from litestar.testing import TestClient
from sqlalchemy import func, select

from core.cases.models import Case, CaseEvent, CaseMaterial
from core.db import Database
from core.notify.outbox import OutboxMessage
from tests.cases.conftest import PDF, Desk
from tests.cases.test_pages import _citizen_login, _staff_login
from tests.helpers import account_token, bearer, staff_token

ZHANG = "13800000001"
ITEM = "HC-SC03"


def _events(desk: Desk, number: str, action: str) -> int:
    with desk.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        return s.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.action == action)
        )


def _outbox(desk: Desk, number: str, template: str) -> int:
    with desk.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        return s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.case_id == case.id, OutboxMessage.template == template)
        )


def _materials(desk: Desk, number: str) -> list[CaseMaterial]:
    with desk.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        rows = list(s.scalars(select(CaseMaterial).where(CaseMaterial.case_id == case.id)))
        for row in rows:
            s.expunge(row)
        return rows


def test_a_submission_retried_with_its_key_is_done_once_and_answered_again(
    client, db: Database, hechi: Desk
) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), ITEM, submit=False)
    token = account_token(db, "hechi", ZHANG)
    headers = {**bearer(token), "Idempotency-Key": f"submit-{number}"}
    first = client.post(f"/api/v1/t/hechi/cases/{number}/submit", headers=headers)
    assert first.status_code == 200, first.text
    again = client.post(f"/api/v1/t/hechi/cases/{number}/submit", headers=headers)
    assert again.status_code == 200, again.text
    assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
    assert _events(hechi, number, "submit") == 1
    assert _outbox(hechi, number, "case_received") == 1  # one receipt SMS, not two

    # the same key with another request is refused, in Chinese, naming the header
    other = client.post(
        f"/api/v1/t/hechi/cases/{number}/withdraw", json={"reason": "重复提交"}, headers=headers
    )
    assert other.status_code == 422, other.text
    assert other.json()["error"] == "idempotency_key_reused"
    assert other.json()["field"] == "Idempotency-Key" and "另一个请求" in other.json()["detail"]
    assert hechi.case(number).state.value == "submitted"


def test_a_transition_that_went_through_answers_the_case_to_its_own_retry(
    client, db: Database, hechi: Desk
) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), ITEM)  # submitted; its answer "was lost"
    token = account_token(db, "hechi", ZHANG)
    retried = client.post(f"/api/v1/t/hechi/cases/{number}/submit", headers=bearer(token))
    assert retried.status_code == 200, retried.text
    assert retried.json()["number"] == number and retried.json()["state"] == "submitted"
    assert _events(hechi, number, "submit") == 1

    clerk = staff_token(db, "hechi", "hechi-clerk")
    accept = {"action": "accept", "reason": "材料齐全，予以受理"}
    path = f"/api/v1/t/hechi/cases/{number}/actions"
    assert client.post(path, json=accept, headers=bearer(clerk)).status_code == 200
    again = client.post(path, json=accept, headers=bearer(clerk))
    assert again.status_code == 200, again.text
    assert again.json()["state"] == "in_progress" and _events(hechi, number, "accept") == 1
    # not a retry: another opinion, or another person, still meets the conflict
    other = client.post(path, json={"action": "accept", "reason": "同意"}, headers=bearer(clerk))
    assert other.status_code == 409
    chief = staff_token(db, "hechi", "hechi-approver")
    assert client.post(path, json=accept, headers=bearer(chief)).status_code in (403, 409)


def test_a_comment_sent_twice_with_its_key_is_on_the_trail_once(
    client, db: Database, hechi: Desk
) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), ITEM)
    clerk = staff_token(db, "hechi", "hechi-clerk")
    headers = {**bearer(clerk), "Idempotency-Key": "备注-1".encode().hex()}
    body = {"action": "comment", "reason": "申请人来电，称营业执照原件下周补交"}
    path = f"/api/v1/t/hechi/cases/{number}/actions"
    for _ in range(3):
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 200, answer.text
    assert _events(hechi, number, "comment") == 1
    # without a key a comment is a new comment each time
    assert client.post(path, json=body, headers=bearer(clerk)).status_code == 200
    assert _events(hechi, number, "comment") == 2


def test_an_upload_retried_with_its_key_stores_one_file(client, db: Database, hechi: Desk) -> None:
    citizen = hechi.citizen(ZHANG)
    with hechi.session() as s:
        from core.cases.service import commit, create_case

        case, _ = create_case(s, hechi.tenant, citizen, ITEM)
        number = case.number
        commit(s)
    token = account_token(db, "hechi", ZHANG)
    headers = {**bearer(token), "Idempotency-Key": f"upload-{number}-0"}

    def upload(body: bytes = PDF, index: int = 0):
        return client.post(
            f"/api/v1/t/hechi/cases/{number}/materials",
            files={"file": ("营业执照.pdf", io.BytesIO(body), "application/pdf")},
            data={"index": str(index)},
            headers=headers,
        )

    first = upload()
    assert first.status_code == 201, first.text
    again = upload()
    assert again.status_code == 201 and again.json() == first.json()
    rows = _materials(hechi, number)
    assert len(rows) == 1 and str(rows[0].id) == first.json()["id"]
    from core.storage import get_storage

    stored = list(get_storage().list(f"t/{hechi.tenant.id}/materials/{rows[0].case_id}/"))
    assert [o.key for o in stored] == [rows[0].storage_key]  # one object, not two
    # the key with another file is refused and stores nothing
    other = upload(PDF + b"%% another scan")
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    assert len(_materials(hechi, number)) == 1
    assert len(list(get_storage().list(f"t/{hechi.tenant.id}/materials/{rows[0].case_id}/"))) == 1


def test_a_page_form_posted_twice_does_its_work_once(app, hechi: Desk) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), ITEM, submit=False)
    with TestClient(app=app, base_url="http://testserver.local") as citizen:
        token = _citizen_login(citizen)
        review = citizen.get(f"/t/hechi/my/cases/{number}/review")
        key = re.search(r'name="idempotency_key" value="([^"]+)"', review.text).group(1)
        form = {"_csrf_token": token, "idempotency_key": key}
        first = citizen.post(
            f"/t/hechi/my/cases/{number}/do/submit", data=form, follow_redirects=False
        )
        assert first.status_code in (302, 303) and "error=" not in first.headers["location"]
        # the browser sends it again (a double click, a resend after a timeout)
        again = citizen.post(
            f"/t/hechi/my/cases/{number}/do/submit", data=form, follow_redirects=False
        )
        assert again.headers["location"] == first.headers["location"]
        assert "已提交" in citizen.get(again.headers["location"]).text
    assert _events(hechi, number, "submit") == 1

    with TestClient(app=app, base_url="http://testserver.local") as clerk:
        token = _staff_login(clerk, "hechi-clerk")
        page = clerk.get(f"/t/hechi/workbench/cases/{number}")
        keys = re.findall(r'name="idempotency_key" value="([^"]+)"', page.text)
        assert len(keys) == len(set(keys)) >= 2  # each form its own
        note = {
            "_csrf_token": token,
            "idempotency_key": keys[-1],
            "action": "comment",
            "reason": "已电话通知申请人携带原件",
        }
        for _ in range(2):
            done = clerk.post(
                f"/t/hechi/workbench/cases/{number}/act", data=note, follow_redirects=False
            )
            assert done.status_code in (302, 303) and "error=" not in done.headers["location"]
    assert _events(hechi, number, "comment") == 1

"""The whole life of a case through the JSON API only, as the issue's check describes it: a
citizen applies with materials, gets a correction notice naming two materials, corrects once,
and the case goes accept → review → approve → issue; the notices and the e-license verify
publicly; the trail verifies, and fails after one row is edited in the database."""

from __future__ import annotations

import hashlib
import io

import pypdf
from sqlalchemy import text

from core.db import Database
from core.tenancy import scope_for
from tests.helpers import account_token, bearer, staff_token, tenant

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CITIZEN = "13800000001"  # 张伟, a demo citizen of Guangxi
ITEM = "HC-SC03"  # 食品经营许可: five posts, three required materials, issues an e-license


def _upload(client, token: str, number: str, index: int, body: bytes = PDF, name: str = "a.pdf"):
    return client.post(
        f"/api/v1/t/hechi/cases/{number}/materials",
        files={"file": (name, io.BytesIO(body), "application/pdf")},
        data={"index": str(index)},
        headers=bearer(token),
    )


def _act(client, token: str, number: str, action: str, **body):
    return client.post(
        f"/api/v1/t/hechi/cases/{number}/actions",
        json={"action": action, **body},
        headers=bearer(token),
    )


def _pdf_text(client, token: str, number: str, code: str) -> str:
    response = client.get(
        f"/api/v1/t/hechi/cases/{number}/notices/{code}/pdf", headers=bearer(token)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/pdf")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return "".join(page.extract_text() for page in reader.pages)


def test_apply_correct_once_accept_review_approve_issue_and_verify(client, db: Database) -> None:
    citizen = account_token(db, "hechi", CITIZEN)
    clerk = staff_token(db, "hechi", "hechi-clerk")
    reviewer = staff_token(db, "hechi", "hechi-reviewer")
    approver = staff_token(db, "hechi", "hechi-approver")
    issuer = staff_token(db, "hechi", "hechi-issuer")

    # a draft, created once however often the request is repeated
    key = {"Idempotency-Key": "apply-food-licence-1", **bearer(citizen)}
    first = client.post("/api/v1/t/hechi/cases", json={"item": ITEM}, headers=key)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/t/hechi/cases", json={"item": ITEM}, headers=key)
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    case = first.json()
    number = case["number"]
    assert number.startswith("451200-") and case["state"] == "draft"

    # submitting without the materials names every missing one
    missing = client.post(f"/api/v1/t/hechi/cases/{number}/submit", headers=bearer(citizen))
    assert missing.status_code == 422
    assert missing.json()["fields"] == ["materials[0]", "materials[1]", "materials[2]"]

    # wrong type: 415 and nothing stored
    bad = _upload(client, citizen, number, 0, b"MZ\x90\x00 not a pdf at all", "a.exe")
    assert bad.status_code == 415, bad.text
    for index in range(3):
        uploaded = _upload(client, citizen, number, index)
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["content_type"] == "application/pdf"
    case = client.get(f"/api/v1/t/hechi/cases/{number}", headers=bearer(citizen)).json()
    assert [m["index"] for m in case["materials"]] == [0, 1, 2]

    submitted = client.post(f"/api/v1/t/hechi/cases/{number}/submit", headers=bearer(citizen))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    assert [n["kind"] for n in submitted.json()["notices"]] == ["receipt"]

    # the wrong role is refused; an action the state does not allow is a conflict
    assert _act(client, reviewer, number, "accept").status_code == 403
    early = _act(client, approver, number, "approve")
    assert early.status_code == 409
    assert early.json()["detail"] == "办件当前状态为“待受理”，现在不能批准"

    # one correction notice listing two materials
    corrected = _act(
        client,
        clerk,
        number,
        "request_correction",
        materials=[
            {"index": 1, "reason": "营业执照复印件不清晰，请重新扫描"},
            {"index": 2, "reason": "平面图未标明操作间面积"},
        ],
    )
    assert corrected.status_code == 200, corrected.text
    body = corrected.json()
    assert body["state"] == "correcting"
    notice = next(n for n in body["notices"] if n["kind"] == "correction")
    pdf_text = _pdf_text(client, citizen, number, notice["code"])
    assert "一次性补正告知书" in pdf_text
    assert "营业执照" in pdf_text and "经营场所平面图" in pdf_text
    assert "食品经营许可申请书" not in pdf_text.split("补正要求", 1)[1]
    # only once
    assert (
        _act(
            client, clerk, number, "request_correction", materials=[{"index": 0, "reason": "x"}]
        ).status_code
        == 409
    )

    # resubmitting before replacing both is refused, naming what is missing
    assert _upload(client, citizen, number, 1).status_code == 201
    early = client.post(f"/api/v1/t/hechi/cases/{number}/correct", headers=bearer(citizen))
    assert early.status_code == 422 and early.json()["fields"] == ["materials[2]"]
    # a material the notice did not name cannot be changed during the correction
    assert _upload(client, citizen, number, 0).status_code == 409
    assert _upload(client, citizen, number, 2, PNG, "plan.png").status_code == 201
    resubmitted = client.post(f"/api/v1/t/hechi/cases/{number}/correct", headers=bearer(citizen))
    assert resubmitted.status_code == 200 and resubmitted.json()["state"] == "submitted"

    accepted = _act(client, clerk, number, "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "in_progress"
    assert accepted.json()["due_on"] is not None
    assert (
        _act(client, reviewer, number, "review", reason="材料齐全，现场核查符合").status_code == 200
    )
    assert _act(client, approver, number, "approve", reason="同意").status_code == 200
    issued = _act(client, issuer, number, "issue")
    assert issued.status_code == 200, issued.text
    final = issued.json()
    assert final["state"] == "completed" and final["decision"] == "approved"
    kinds = [n["kind"] for n in final["notices"]]
    assert kinds == ["receipt", "correction", "acceptance", "completion"]
    assert final["licenses"][0]["title"] == "食品经营许可证"

    # the completion notice and the e-license verify publicly (no sign-in)
    completion = next(n for n in final["notices"] if n["kind"] == "completion")
    pdf_url = f"/api/v1/t/hechi/cases/{number}/notices/{completion['code']}/pdf"
    first = client.get(pdf_url, headers=bearer(citizen)).content
    assert client.get(pdf_url, headers=bearer(clerk)).content == first  # rendered once, kept
    check = client.get(f"/api/v1/t/hechi/verify/{completion['code']}")
    assert check.status_code == 200 and check.json()["valid"] is True
    assert check.json()["sha256"] == hashlib.sha256(first).hexdigest()
    assert check.json()["holder"].startswith("张") and "伟" not in check.json()["holder"]
    lic = client.get(f"/api/v1/t/hechi/verify/{final['licenses'][0]['code']}")
    assert (
        lic.status_code == 200 and lic.json()["valid"] is True and lic.json()["kind"] == "license"
    )
    assert client.get("/api/v1/t/hechi/verify/NOSUCHCODE00").status_code == 404
    # the e-license is in the citizen's library
    library = client.get("/api/v1/t/hechi/licenses", headers=bearer(citizen)).json()
    assert final["licenses"][0]["number"] in [x["number"] for x in library]

    # the public progress query needs the query code
    query = case["query_code"]
    progress = client.get(f"/api/v1/t/hechi/progress?number={number}&code={query}")
    assert progress.status_code == 200 and progress.json()["state"] == "completed"
    assert "张伟" not in progress.text
    wrong = client.get(f"/api/v1/t/hechi/progress?number={number}&code=000000x")
    assert wrong.status_code == 404

    # the trail verifies ... and fails after one row is edited in the database
    report = client.get(f"/api/v1/t/hechi/cases/{number}/verify", headers=bearer(clerk)).json()
    assert report["intact"] is True and report["events"] >= 12
    t = tenant(db, "hechi")
    with db.session(scope=scope_for(t)) as session:  # as the tenant's own DB role would
        edited = session.execute(
            text(
                "UPDATE case_events SET reason = '改过的意见' WHERE tenant_id = :t AND seq = 4 "
                "AND case_id = (SELECT id FROM cases WHERE number = :n AND tenant_id = :t)"
            ),
            {"t": t.id if db.engine.dialect.name == "postgresql" else t.id.hex, "n": number},
        )
        assert getattr(edited, "rowcount", None) == 1
        session.commit()
    broken = client.get(f"/api/v1/t/hechi/cases/{number}/verify", headers=bearer(clerk)).json()
    assert broken["intact"] is False and broken["broken_at"] == 4


def test_another_tenants_case_is_404_and_strangers_see_nothing(client, db: Database) -> None:
    citizen = account_token(db, "hechi", CITIZEN)
    created = client.post("/api/v1/t/hechi/cases", json={"item": ITEM}, headers=bearer(citizen))
    number = created.json()["number"]
    other = account_token(db, "hechi", "13800000008")  # 李娜
    assert client.get(f"/api/v1/t/hechi/cases/{number}", headers=bearer(other)).status_code == 404
    bozhou = staff_token(db, "bozhou", "bozhou-clerk")
    assert client.get(f"/api/v1/t/bozhou/cases/{number}", headers=bearer(bozhou)).status_code == 404
    mine = client.get("/api/v1/t/hechi/cases", headers=bearer(other)).json()
    assert number not in [c["number"] for c in mine["cases"]]


def test_a_citizens_draft_is_theirs_until_submitted(client, db: Database) -> None:
    citizen = account_token(db, "hechi", CITIZEN)
    clerk = staff_token(db, "hechi", "hechi-clerk")
    draft = client.post("/api/v1/t/hechi/cases", json={"item": ITEM}, headers=bearer(citizen))
    number = draft.json()["number"]
    assert client.get(f"/api/v1/t/hechi/cases/{number}", headers=bearer(clerk)).status_code == 404
    listed = client.get("/api/v1/t/hechi/cases?state=draft", headers=bearer(clerk)).json()
    assert number not in str(listed)
    assert client.get(f"/api/v1/t/hechi/cases/{number}", headers=bearer(citizen)).status_code == 200

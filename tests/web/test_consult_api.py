"""在线咨询与投诉 through the JSON API: a citizen's token asks and reads its own; the department's
reviewer answers and publishes it; the item's 常见问题 needs no token and names no asker; other
people get 404, and a token needs the right scope."""

from __future__ import annotations

from core.db import Database
from tests.helpers import account_token, bearer, staff_token

LINA, ZHANG = "13800000008", "13800000001"


def test_ask_answer_and_read_the_faq_through_the_api(client, db: Database) -> None:
    lina = bearer(account_token(db, "hechi", LINA))
    asked = client.post(
        "/api/v1/t/hechi/consultations",
        headers=lina,
        json={"item": "HC-SB01", "subject": "API 咨询", "text": "可以网上认证吗？"},
    )
    assert asked.status_code == 201, asked.text
    body = asked.json()
    number = body["number"]
    assert body["kind_label"] == "咨询" and body["state_label"] == "待答复"
    assert number in {
        q["number"] for q in client.get("/api/v1/t/hechi/consultations", headers=lina).json()
    }
    bad = client.post(
        "/api/v1/t/hechi/consultations",
        headers=lina,
        json={"item": "HC-SB01", "subject": "", "text": "x"},
    )
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_input"

    zhang = bearer(account_token(db, "hechi", ZHANG))
    assert client.get(f"/api/v1/t/hechi/consultations/{number}", headers=zhang).status_code == 404
    clerk = bearer(staff_token(db, "hechi", "hechi-clerk"))
    refused = client.post(
        f"/api/v1/t/hechi/consultations/{number}/answer", headers=clerk, json={"answer": "越权"}
    )
    assert refused.status_code == 404
    reviewer = bearer(staff_token(db, "hechi", "hechi-reviewer"))
    answered = client.post(
        f"/api/v1/t/hechi/consultations/{number}/answer",
        headers=reviewer,
        json={
            "answer": "可以，用广西人社 App。",
            "public": True,
            "public_question": "能否网上认证？",
        },
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "answered"
    assert client.get(f"/api/v1/t/hechi/consultations/{number}", headers=lina).json()["answer"]

    faq = client.get("/api/v1/t/hechi/items/HC-SB01/faq")
    assert faq.status_code == 200
    assert {"question": "能否网上认证？", "answer": "可以，用广西人社 App。"}.items() <= next(
        f for f in faq.json() if f["question"] == "能否网上认证？"
    ).items()
    assert "李娜" not in faq.text
    assert client.get("/api/v1/t/hechi/items/NO-SUCH/faq").status_code == 404


def test_a_complaint_through_the_api_is_about_ones_own_case(client, db: Database) -> None:
    from tests.cases.conftest import Desk

    hechi = Desk(db, "hechi")
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SB04")
    lina = bearer(account_token(db, "hechi", LINA))
    body = {"case": number, "subject": "投诉", "text": "不是我的办件"}
    assert client.post("/api/v1/t/hechi/consultations", headers=lina, json=body).status_code == 404
    zhang = bearer(account_token(db, "hechi", ZHANG))
    made = client.post("/api/v1/t/hechi/consultations", headers=zhang, json=body)
    assert made.status_code == 201 and made.json()["kind"] == "complaint"
    assert made.json()["case"] == number

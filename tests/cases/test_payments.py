"""Online payment through a payment plugin: the applicant is sent to the provider's page, and
only the provider's signed notice records the payment — once, for exactly the amount owed."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from core.cases.models import CasePayment
from core.plugins import PluginMeta, get_plugin_manager, hookimpl
from tests.cases.conftest import Desk
from tests.cases.test_pages import _citizen_login
from tests.helpers import account_token, bearer, staff_token

ZHANG = "13800000001"
SECRET = b"test-pay-secret"


class TestPay:
    """A provider that signs its notices with HMAC-SHA256 over the raw body."""

    meta = PluginMeta(name="test_pay", version="1.0", title="测试支付")

    @hookimpl
    def create_payment(self, tenant, config, payment):
        notify = payment["notify_url"].replace("{provider}", "testpay")
        assert notify.endswith(f"/api/v1/t/{tenant.slug}/payments/testpay/notify")
        return {
            "provider": "testpay",
            "pay_url": f"https://pay.example.test/order/{payment['reference']}"
            f"?amount={payment['amount']}",
        }

    @hookimpl
    def confirm_payment(self, tenant, config, provider, headers, body):
        if provider != "testpay":
            return None
        expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("x-testpay-signature", "")):
            return {"error": "签名不符"}
        notice = json.loads(body)
        return {
            "reference": notice["out_trade_no"],
            "amount": notice["total"],
            "transaction_id": notice["trade_no"],
        }


def _signed(payload: dict, secret: bytes = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return body, {"x-testpay-signature": signature, "content-type": "application/json"}


@pytest.fixture
def testpay(hechi: Desk) -> Iterator[None]:
    manager = get_plugin_manager()
    manager.register(TestPay())
    try:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "test_pay", True)
            s.commit()
        yield
    finally:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "test_pay", False)
            s.commit()
        manager.unregister("test_pay")


def _fee_item(hechi: Desk) -> str:
    from core.catalog import create_item

    code = "FEE-" + uuid.uuid4().hex[:6]
    with hechi.session() as s:
        create_item(
            s,
            hechi.tenant,
            code=code,
            publish=True,
            content={
                "name": "居住证换领",
                "category": "ggfw",
                "department": "HC-GAJ",
                "process": "short",
                "channels": ["online", "counter"],
                "materials": [{"name": "申请表"}],
                "fees": [{"name": "工本费", "amount": "20", "basis": "桂价费〔2016〕示例号"}],
            },
        )
        s.commit()
    return code


def test_online_payment_is_recorded_once_from_the_signed_notice(
    hechi: Desk, client: TestClient, db
) -> None:
    cili = Desk(db, "cili")
    number = hechi.apply(hechi.citizen(ZHANG), _fee_item(hechi))
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    citizen = account_token(db, "hechi", ZHANG)
    start = f"/api/v1/t/hechi/cases/{number}/payment"
    notify = "/api/v1/t/hechi/payments/testpay/notify"

    # no payment plugin enabled: pay at the counter
    none = client.post(start, headers=bearer(citizen))
    assert none.status_code == 409 and "窗口" in none.json()["detail"]

    manager = get_plugin_manager()
    manager.register(TestPay())
    try:
        for desk in (hechi, cili):
            with desk.session() as s:
                manager.set_enabled(s, desk.tenant, "test_pay", True)
                s.commit()
        started = client.post(start, headers=bearer(citizen))
        assert started.status_code == 200, started.text
        assert started.json() == {
            "provider": "testpay",
            "pay_url": f"https://pay.example.test/order/{number}?amount=20.00",
        }
        # staff do not pay on the applicant's behalf online
        clerk = staff_token(db, "hechi", "hechi-clerk")
        assert client.post(start, headers=bearer(clerk)).status_code == 403

        good = {"out_trade_no": number, "total": "20.00", "trade_no": "TP20261122001"}
        # a forged notice: 422, nothing recorded
        body, headers = _signed(good, secret=b"guessed")
        forged = client.post(notify, content=body, headers=headers)
        assert forged.status_code == 422 and forged.json()["field"] == "signature"
        # a signed notice for the wrong amount: 422, nothing recorded
        body, headers = _signed(dict(good, total="2.00"))
        wrong = client.post(notify, content=body, headers=headers)
        assert wrong.status_code == 422 and wrong.json()["field"] == "amount", wrong.text
        assert hechi.case(number).fee_status.value == "unpaid"
        # an unknown provider: 404
        assert client.post(notify.replace("testpay", "other"), content=body).status_code == 404

        body, headers = _signed(good)
        paid = client.post(notify, content=body, headers=headers)
        assert paid.status_code == 200 and paid.json() == {
            "ok": True,
            "case": number,
            "recorded": True,
        }
        again = client.post(notify, content=body, headers=headers)  # providers retry
        assert again.status_code == 200 and again.json()["recorded"] is False
        case = hechi.case(number)
        assert case.fee_status.value == "paid"
        with hechi.session() as s:
            rows = s.scalars(select(CasePayment).where(CasePayment.case_id == case.id)).all()
        assert [(r.kind, r.amount, r.method, r.reference) for r in rows] == [
            ("payment", "20.00", "online:testpay", "TP20261122001")
        ]
        trail = client.get(f"/api/v1/t/hechi/cases/{number}/events", headers=bearer(citizen))
        assert trail.json()[-1]["action"] == "pay"
        # nothing is owed any more
        assert client.post(start, headers=bearer(citizen)).status_code == 409
        # the same notice sent to another county (the provider enabled there too) finds no
        # such case there
        other = client.post(notify.replace("/hechi/", "/cili/"), content=body, headers=headers)
        assert other.status_code == 404 and other.json()["field"] == "reference"
    finally:
        for desk in (hechi, cili):
            with desk.session() as s:
                manager.set_enabled(s, desk.tenant, "test_pay", False)
                s.commit()
        manager.unregister("test_pay")


def test_the_portal_offers_online_payment_only_when_a_plugin_takes_it(
    hechi: Desk, app, testpay
) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), _fee_item(hechi))
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = _citizen_login(browser)
        page = browser.get(f"/t/hechi/my/cases/{number}")
        assert "待缴费用：20.00 元" in page.text and 'data-testid="pay-online"' in page.text
        sent = browser.post(
            f"/t/hechi/my/cases/{number}/do/pay",
            data={"_csrf_token": token},
            follow_redirects=False,
        )
        assert sent.status_code in (302, 303)
        assert sent.headers["location"].startswith("https://pay.example.test/order/" + number)

"""A vendor's SMS plugin written against ``core.plugins`` alone (tests/sample_vendor, an
installed package) works end to end: it sends the county's messages, its signed delivery
receipts mark them delivered, and a citizen's reply through its inbound callback rates the
case — the callbacks read by its ``read_sms_receipts`` / ``read_sms_inbound`` hooks, the one
convention every vendor callback follows. A vendor object that still reads its own webhooks
(the 0.1 way) keeps working for one release."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import govhall_sample_vendor as sample
import pytest
from sqlalchemy import select

from core.db import PLATFORM
from core.notify.outbox import OutboxMessage
from core.notify.relay import deliver
from core.plugins import PluginMeta, SendResult, SmsReceipt, get_plugin_manager, hookimpl
from tests.cases.conftest import Desk

TOKEN = "示例服务商回调密钥-2026"
ZHANG = "13800000001"
OLD_TOKEN = "old-style-webhook-token"


@pytest.fixture
def hechi(db) -> Desk:
    return Desk(db, "hechi")


@pytest.fixture
def sample_vendor(hechi: Desk) -> Iterator[None]:
    """The sample vendor on for Hechi, the console vendor off; both as they were afterwards."""
    manager = get_plugin_manager()
    with hechi.session() as s:
        console = manager.states(s, hechi.tenant)["sms_console"]
        was = (console.enabled, dict(console.raw_config))
        manager.set_enabled(s, hechi.tenant, "sms_console", False)
        manager.set_enabled(s, hechi.tenant, "sample_vendor", True, {"webhook_token": TOKEN})
        s.commit()
    sample.SENT.clear()
    try:
        yield
    finally:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "sample_vendor", False, {})
            manager.set_enabled(s, hechi.tenant, "sms_console", was[0], was[1])
            s.commit()
        sample.SENT.clear()


def _signed(body: Any, token: str = TOKEN) -> dict[str, Any]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    return {
        "content": raw,
        "headers": {
            "content-type": "application/json",
            "x-sample-signature": sample.signature(token, raw),
        },
    }


def _relay(hechi: Desk, case_number: str, template: str) -> OutboxMessage:
    case = hechi.case(case_number)
    with hechi.session() as s:
        row_id = s.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.case_id == case.id, OutboxMessage.template == template
            )
        ).one()
    with hechi.db.session(scope=PLATFORM) as s:
        assert deliver(s, row_id) == "sent"
        s.commit()
    with hechi.session() as s:
        row = s.get(OutboxMessage, (hechi.tenant.id, row_id))
        s.expunge(row)
    return row


def test_a_vendor_plugin_on_core_plugins_alone_sends_gets_receipts_and_replies(
    hechi: Desk, client, sample_vendor
) -> None:
    # send: the county's message goes out through the vendor, signature and all
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SB05")  # 即办: decided at the counter
    row = _relay(hechi, number, "case_received")
    assert (row.state, row.vendor) == ("sent", "sample")
    (sent,) = [m for m in sample.SENT if m.id == str(row.id)]
    assert sent.phone == ZHANG and sent.text.startswith("【河池市政务服务】您申请的")

    # receipts: a forged one changes nothing; the signed one marks the message delivered
    url = "/api/v1/t/hechi/sms/sample/receipts"
    report = [{"ref": str(row.id), "ok": True}, {"ref": "not-ours", "ok": True}]
    assert client.post(url, **_signed(report, token="伪造")).status_code == 403
    with hechi.session() as s:  # anyone can send one: no failure of the vendor's
        assert not [
            e
            for e in get_plugin_manager().recent_errors(s, hechi.tenant)
            if e.plugin == "sample_vendor" and e.hook == "read_sms_receipts"
        ]
    answer = client.post(url, **_signed(report))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "applied": 1, "ignored": 1}
    with hechi.session() as s:
        assert s.get(OutboxMessage, (hechi.tenant.id, row.id)).state == "delivered"

    # inbound: the citizen's reply to the rating request rates the case
    hechi.act(hechi.staff("hechi-clerk"), number, "decide")
    reply = [{"msg_id": "up-" + uuid.uuid4().hex, "from": "+86 " + ZHANG, "content": "95 谢谢"}]
    inbound = "/api/v1/t/hechi/sms/sample/inbound"
    assert client.post(inbound, **_signed(reply, token="伪造")).status_code == 403
    rated = client.post(inbound, **_signed(reply))
    assert rated.status_code == 200, rated.text
    assert rated.json()[0]["outcome"] == "rated" and number in rated.json()[0]["reason"]
    assert hechi.case(number).rating == 95

    # a vendor name no enabled plugin answers for
    assert client.post("/api/v1/t/hechi/sms/nobody/receipts", **_signed([])).status_code == 404


class OldStyleVendor:
    """A 0.1 vendor object that reads its own receipts (deprecated: the hooks replace it)."""

    name, priority = "oldstyle", 0

    def send(self, message: Any) -> SendResult:
        return SendResult(ok=True, vendor_ref=message.id)

    def parse_receipts(self, headers: dict[str, str], body: bytes) -> list[SmsReceipt] | None:
        if headers.get("x-old-token") != OLD_TOKEN:
            return None
        return [SmsReceipt(reference=r["id"], delivered=True) for r in json.loads(body)]


class OldStylePlugin:
    meta = PluginMeta(name="oldstyle_sms", version="0.1", title="旧式短信通道")

    @hookimpl
    def register_sms_vendors(self) -> list[OldStyleVendor]:
        return [OldStyleVendor()]


def test_a_vendor_object_reading_its_own_receipts_still_works_for_one_release(
    hechi: Desk, client
) -> None:
    manager = get_plugin_manager()
    manager.register(OldStylePlugin())
    try:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "oldstyle_sms", True)
            s.commit()
        url = "/api/v1/t/hechi/sms/oldstyle/receipts"
        body = json.dumps([{"id": str(uuid.uuid4())}])
        headers = {"x-old-token": OLD_TOKEN, "content-type": "application/json"}
        answer = client.post(url, content=body, headers=headers)
        assert answer.status_code == 200 and answer.json()["ignored"] == 1  # not ours: ignored
        forged = client.post(url, content=body, headers={"x-old-token": "x"})
        assert forged.status_code == 403
    finally:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "oldstyle_sms", False)
            s.commit()
        manager.unregister("oldstyle_sms")

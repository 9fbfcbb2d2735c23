"""Sign-in codes get delivery receipts: a code sent at once leaves an outbox row (already
sent, without the code) whose id is the vendor reference, so the vendor's receipt marks it
delivered or failed like any notice; a code not delivered counts as the vendor's failure; the
county admin reads today's codes sent, delivered and not delivered on 插件状态."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, select

from core.db import Database
from core.identity.models import LoginThrottle
from core.identity.service import request_sign_in_code
from core.notify import routing
from core.notify.outbox import OutboxMessage
from core.notify.sms import sent_today
from core.plugins import get_plugin_manager
from core.plugins.models import PluginError, PluginHealth
from tests.cases.conftest import Desk
from tests.fakes import CloudSms
from tests.helpers import csrf_token


@pytest.fixture
def hechi(db: Database) -> Iterator[Desk]:
    desk = Desk(db, "hechi")
    yield desk
    with db.session(scope=None) as s:
        s.execute(delete(LoginThrottle).where(LoginThrottle.key.like("otp-%")))
        s.commit()


@pytest.fixture
def cloud(hechi: Desk) -> Iterator[CloudSms]:
    """The cloud SMS service as hechi's only vendor; the console back afterwards."""
    fake = CloudSms().start()
    manager = get_plugin_manager()
    routing.reset()
    config = {
        "endpoint": fake.url,
        "access_key_id": fake.key,
        "access_key_secret": fake.secret,
        "template_codes": {"otp": "SMS_0001"},
        "priority": 10,
        "timeout_seconds": 2,
    }
    with hechi.session() as s:
        manager.set_enabled(s, hechi.tenant, "sms_console", False)
        manager.set_enabled(s, hechi.tenant, "sms_cloud", True, config)
        s.commit()
    yield fake
    fake.stop()
    with hechi.session() as s:
        manager.set_enabled(s, hechi.tenant, "sms_cloud", False, {})
        manager.set_enabled(s, hechi.tenant, "sms_console", True)
        s.commit()
    routing.reset()


def _code(hechi: Desk, cloud: CloudSms) -> tuple[str, str]:
    """Request a code; returns (the vendor reference it went out with, the code)."""
    with hechi.session() as s:
        request_sign_in_code(s, hechi.tenant, f"137{secrets.randbelow(10**8):08d}")
        s.commit()
    sent = cloud.received[-1]
    return sent["out_id"], sent["template_param"]["code"]


def _row(hechi: Desk, reference: str) -> OutboxMessage:
    with hechi.session() as s:
        row = s.get(OutboxMessage, (hechi.tenant.id, uuid.UUID(reference)))
        assert row is not None
        s.expunge(row)
        return row


def _receipt(client: TestClient, cloud: CloudSms, records: list[dict[str, Any]]) -> Any:
    answer = client.post("/api/v1/t/hechi/sms/cloud/receipts", **cloud.callback(records))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _send_health(hechi: Desk) -> PluginHealth | None:
    with hechi.session() as s:
        row = s.scalar(
            select(PluginHealth).where(
                PluginHealth.tenant_id == hechi.tenant.id,
                PluginHealth.plugin == "sms_cloud",
                PluginHealth.hook == "send_sms",
            )
        )
        if row is not None:
            s.expunge(row)
        return row


def test_a_codes_receipt_marks_it_and_a_failed_one_counts_against_the_vendor(
    hechi: Desk, cloud: CloudSms, client: TestClient
) -> None:
    with hechi.session() as s:
        before = sent_today(s, hechi.tenant)
    reference, code = _code(hechi, cloud)
    row = _row(hechi, reference)
    assert (row.template, row.state, row.vendor) == ("otp", "sent", "cloud")
    assert code not in str(row.params)  # the code itself is never kept

    failed = [{"out_id": reference, "status": "FAILED", "err_code": "MOBILE_NOT_ON_SERVICE"}]
    assert _receipt(client, cloud, failed)["applied"] == 1
    assert _row(hechi, reference).state == "failed"
    with hechi.session() as s:
        error = s.scalars(
            select(PluginError)
            .where(PluginError.tenant_id == hechi.tenant.id, PluginError.plugin == "sms_cloud")
            .order_by(PluginError.created_at.desc())
        ).first()
    assert error is not None and (error.hook, error.vendor) == ("sms_receipt", "cloud")
    assert "验证码未送达" in error.message and "MOBILE_NOT_ON_SERVICE" in error.message
    health = _send_health(hechi)
    assert health is not None and health.failures == 1
    assert _receipt(client, cloud, failed)["ignored"] == 1  # a repeat changes nothing

    delivered, _ = _code(hechi, cloud)
    assert _receipt(client, cloud, [{"out_id": delivered, "status": "DELIVERED"}])["applied"] == 1
    assert _row(hechi, delivered).state == "delivered"
    health = _send_health(hechi)
    assert health is not None and health.failures == 0

    with hechi.session() as s:
        after = sent_today(s, hechi.tenant)
    assert after["failed"] == before["failed"] + 1
    assert after["delivered"] == before["delivered"] + 1

    token = csrf_token(client, "/t/hechi/staff/login")
    client.post(
        "/t/hechi/staff/login",
        data={"username": "hechi-admin", "password": "Demo-2026", "_csrf_token": token},
    )
    page = client.get("/t/hechi/admin/plugins/").text
    shown = dict(re.findall(r'data-testid="codes-(\w+)">(\d+)<', page))
    assert shown["delivered"] == str(after["delivered"]) and shown["failed"] == str(after["failed"])
    assert shown["sent"] == str(sum(after.values()))

"""The HTTP SMS vendors against loopback fakes speaking their wire formats: the cloud service's
signed JSON API (template codes, signature name, signed status and reply callbacks) and the
generic gateway (GET or POST, form or JSON, mapped fields); failing over when a vendor is down,
demoting it and bringing it back once it has rested; a tenant's rate limit and daily quota;
self-checks that name a bad key, an unreachable host and missing template codes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.cases import clock
from core.db import PLATFORM
from core.notify import DEFAULT_TEMPLATES, routing
from core.notify.outbox import OutboxMessage, enqueue_sms
from core.notify.relay import deliver
from core.plugins import get_plugin_manager
from core.tenancy.models import Tenant
from tests.cases.conftest import Desk
from tests.fakes import CloudSms, GenericGateway

CODES = {name: f"SMS_{i:04d}" for i, name in enumerate(sorted(DEFAULT_TEMPLATES))}
PARAMS = {"item": "就业创业证申领", "number": "HC-TEST-1", "query_code": "123456"}


@pytest.fixture
def hechi(db) -> Desk:
    return Desk(db, "hechi")


@pytest.fixture
def cloud() -> Iterator[CloudSms]:
    fake = CloudSms().start()
    yield fake
    fake.stop()


@pytest.fixture
def gateway() -> Iterator[GenericGateway]:
    fake = GenericGateway().start()
    yield fake
    fake.stop()


def cloud_config(fake: CloudSms, **changes: Any) -> dict[str, Any]:
    return {
        "endpoint": fake.url,
        "access_key_id": fake.key,
        "access_key_secret": fake.secret,
        "template_codes": CODES,
        "priority": 10,
        "timeout_seconds": 2,
        **changes,
    }


@pytest.fixture
def plugins(hechi: Desk) -> Iterator[Any]:
    """Turn vendors on for hechi (console off); everything back as it was afterwards."""
    manager = get_plugin_manager()
    routing.reset()

    def enable(**configs: dict[str, Any] | None) -> None:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "sms_console", False)
            for name, config in configs.items():
                manager.set_enabled(s, hechi.tenant, name, config is not None, config)
            s.commit()

    yield enable
    with hechi.session() as s:
        for name in ("sms_cloud", "sms_gateway"):
            manager.set_enabled(s, hechi.tenant, name, False, {})
        manager.set_enabled(s, hechi.tenant, "sms_console", True)
        s.commit()
    routing.reset()
    routing.set_clock(None)


def send(hechi: Desk, template: str = "case_received", phone: str = "13800000001") -> Any:
    """Write one outbox row and relay it at once; returns the row afterwards."""
    with hechi.session() as s:
        row = enqueue_sms(s, hechi.tenant, phone, template, PARAMS)
        s.commit()
        row_id = row.id
    with hechi.db.session(scope=PLATFORM) as s:
        deliver(s, row_id)
        s.commit()
    with hechi.session() as s:
        row = s.get(OutboxMessage, (hechi.tenant.id, row_id))
        s.expunge(row)
        return row


def test_the_cloud_vendor_signs_each_message_and_takes_signed_callbacks(
    hechi: Desk, cloud: CloudSms, plugins, client
) -> None:
    plugins(sms_cloud=cloud_config(cloud))
    row = send(hechi)
    assert (row.state, row.vendor) == ("sent", "cloud")
    (got,) = cloud.received
    assert got["template_code"] == CODES["case_received"] and got["sign_name"] == "河池市政务服务"
    assert got["out_id"] == str(row.id) and got["template_param"]["number"] == "HC-TEST-1"

    url = "/api/v1/t/hechi/sms/cloud/receipts"
    forged = cloud.callback([{"out_id": str(row.id), "status": "DELIVERED"}], secret="wrong")
    assert client.post(url, **forged).status_code == 403
    good = cloud.callback([{"out_id": str(row.id), "status": "DELIVERED", "biz_id": "b1"}])
    assert client.post(url, **good).json()["applied"] == 1
    with hechi.session() as s:
        assert s.get(OutboxMessage, (hechi.tenant.id, row.id)).state == "delivered"

    # a reply through the cloud service's inbound callback is stored (and rates nothing here)
    reply = cloud.callback([{"sequence_id": "up-" + uuid.uuid4().hex, "phone": "13912345678"}])
    answer = client.post("/api/v1/t/hechi/sms/cloud/inbound", **reply)
    assert answer.status_code == 200 and answer.json()[0]["outcome"] == "ignored"
    stale = cloud.callback([{"sequence_id": "x", "phone": "13912345678", "content": "95"}])
    stale["headers"]["x-sms-timestamp"] = str(int(stale["headers"]["x-sms-timestamp"]) - 3600)
    assert client.post("/api/v1/t/hechi/sms/cloud/inbound", **stale).status_code == 403


def test_a_template_without_a_code_fails_over_and_says_which(
    hechi: Desk, cloud: CloudSms, gateway: GenericGateway, plugins
) -> None:
    codes = {k: v for k, v in CODES.items() if k != "case_received"}
    plugins(
        sms_cloud=cloud_config(cloud, template_codes=codes),
        sms_gateway={"url": gateway.url + "/send"},
    )
    row = send(hechi)
    assert (row.state, row.vendor) == ("sent", "gateway") and cloud.received == []
    assert gateway.received[0]["content"].startswith("【河池市政务服务】您申请的")


@pytest.mark.parametrize(
    ("config", "method", "plain"),
    [
        ({"method": "GET"}, "GET", False),
        ({"method": "POST", "encoding": "form"}, "POST", False),
        ({"method": "POST", "encoding": "json", "ref_field": "msgid"}, "POST", False),
        ({"success_text": "OK"}, "POST", True),
    ],
)
def test_the_generic_gateway_speaks_what_it_is_configured_to(
    hechi: Desk, plugins, config: dict[str, Any], method: str, plain: bool
) -> None:
    fake = GenericGateway(plain=plain).start()
    try:
        mapping = {"phone": "mobile", "text": "content", "id": "msgid", "template": "tpl"}
        full = {"url": fake.url + "/sms", "fields": mapping, "static": {"account": "hc001"}}
        plugins(sms_gateway={**full, **config})
        row = send(hechi)
        assert row.state == "sent", row.error
        (got,) = fake.received
        assert got["method"] == method and got["mobile"] == "13800000001"
        assert got["account"] == "hc001" and got["tpl"] == "case_received"
        assert got["msgid"] == str(row.id)
        if config.get("ref_field"):
            assert row.vendor_ref.startswith("G")  # the gateway's own id
        fake.refuse = True
        refused = send(hechi)
        assert refused.state == "created" and refused.attempts == 1
        assert "gateway" in refused.error
    finally:
        fake.stop()


def test_a_vendor_that_goes_down_is_demoted_and_comes_back_after_resting(
    hechi: Desk, cloud: CloudSms, gateway: GenericGateway, plugins
) -> None:
    now = [1000.0]
    routing.set_clock(lambda: now[0])
    plugins(sms_cloud=cloud_config(cloud), sms_gateway={"url": gateway.url + "/send"})
    assert send(hechi).vendor == "cloud"  # preferred by priority
    cloud.stop()  # the cloud service is unreachable
    first, second = send(hechi), send(hechi)
    assert (first.vendor, second.vendor) == ("gateway", "gateway")
    assert routing.error_rate(hechi.tenant.id, "cloud") >= routing.DEMOTE_AT
    before = len(gateway.received)
    third = send(hechi)  # demoted: the gateway is tried first, the cloud not at all
    assert third.vendor == "gateway" and len(gateway.received) == before + 1
    cloud.start()  # back on the same port
    now[0] += routing.HALF_LIFE  # rested: its error rate has halved
    assert routing.error_rate(hechi.tenant.id, "cloud") < routing.DEMOTE_AT
    assert send(hechi).vendor == "cloud"


def _set(hechi: Desk, **settings: Any) -> None:
    with hechi.session() as s:
        row = s.get(Tenant, hechi.tenant.id)
        kept = {k: v for k, v in row.settings.items() if not k.startswith("sms_rate")}
        kept = {k: v for k, v in kept.items() if k != "sms_daily_quota"}
        row.settings = {**kept, **settings}
        s.commit()


def test_a_tenant_rate_limit_and_daily_quota_hold_messages_without_losing_them(
    hechi: Desk, gateway: GenericGateway, plugins
) -> None:
    plugins(sms_gateway={"url": gateway.url + "/send"})
    with hechi.session() as s:
        start = datetime.combine(clock.today(), datetime.min.time(), tzinfo=clock.TZ)
        sent_today = s.scalar(
            select(OutboxMessage.id)
            .where(OutboxMessage.tenant_id == hechi.tenant.id, OutboxMessage.sent_at >= start)
            .limit(1)
        )
    try:
        quota = 1 if sent_today is None else 10_000
        _set(hechi, sms_daily_quota=quota, sms_rate_per_minute=2)
        results = [send(hechi) for _ in range(3)]
        held = [r for r in results if r.state == "created"]
        assert held and held[-1].attempts == 0  # waiting is not a failed attempt
        assert "配额" in held[-1].error or "上限" in held[-1].error
        assert held[-1].next_attempt_at > clock.now() + timedelta(seconds=30)
        _set(hechi)  # limits lifted: the held message goes on its next turn
        with hechi.db.session(scope=PLATFORM) as s:
            row = s.get(OutboxMessage, (hechi.tenant.id, held[-1].id))
            row.next_attempt_at = clock.now()
            s.commit()
            assert deliver(s, held[-1].id) == "sent"
            s.commit()
    finally:
        _set(hechi)


def test_self_checks_name_a_bad_key_an_unreachable_host_and_missing_codes(
    hechi: Desk, cloud: CloudSms, gateway: GenericGateway, plugins
) -> None:
    manager = get_plugin_manager()

    def check(name: str, **config: Any) -> list[str]:
        plugins(**{name: config})
        with hechi.session() as s:
            return manager.self_check(s, hechi.tenant, name)

    assert check("sms_cloud", **cloud_config(cloud)) == []
    bad_key = check("sms_cloud", **cloud_config(cloud, access_key_id="AK-wrong"))
    assert any("InvalidAccessKeyId" in p for p in bad_key)
    missing = check("sms_cloud", **cloud_config(cloud, template_codes={"otp": "SMS_1"}))
    assert any("case_received" in p for p in missing)
    assert check("sms_gateway", url=gateway.url + "/send") == []
    gateway.stop()
    assert any("无法连接" in p for p in check("sms_gateway", url=gateway.url + "/send"))
    cloud.stop()
    assert any("无法连接" in p for p in check("sms_cloud", **cloud_config(cloud)))


def _login(browser: Any, username: str, slug: str = "hechi") -> str:
    from tests.helpers import csrf_token

    token = csrf_token(browser, f"/t/{slug}/staff/login")
    browser.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
    )
    return token


def test_the_admin_configures_a_vendor_from_its_schema_and_runs_its_self_check(
    app, hechi: Desk, cloud: CloudSms, plugins
) -> None:
    from litestar.testing import TestClient

    plugins()  # console off, the rest as configured below
    page_url = "/t/hechi/admin/plugins/sms_cloud"
    with TestClient(app=app, base_url="http://testserver.local") as admin:
        token = _login(admin, "hechi-admin")
        page = admin.get(page_url)
        assert page.status_code == 200
        assert 'name="endpoint"' in page.text and 'type="password"' in page.text
        assert 'name="template_codes"' in page.text  # a map: edited as JSON
        form = {
            "_csrf_token": token,
            "enabled": "on",
            "endpoint": cloud.url,
            "access_key_id": cloud.key,
            "access_key_secret": cloud.secret,
            "template_codes": __import__("json").dumps(CODES),
            "priority": "abc",
        }
        bad = admin.post(page_url + "/config", data=form)
        assert bad.status_code == 422 and "优先级（数字大者先用）应为整数" in bad.text
        assert cloud.url in bad.text  # what was typed is still there
        saved = admin.post(page_url + "/config", data={**form, "priority": "20"})
        assert saved.status_code == 200 and "已保存" in saved.text
        assert cloud.secret not in saved.text  # a secret never goes back to the browser
        # saved again without retyping the secret: it is kept
        again = admin.post(
            page_url + "/config", data={**form, "priority": "20", "access_key_secret": ""}
        )
        assert again.status_code == 200
        checked = admin.post(page_url + "/check", data={"_csrf_token": token})
        assert 'data-testid="healthy"' in checked.text
        cloud.stop()
        failing = admin.post(page_url + "/check", data={"_csrf_token": token})
        assert "无法连接短信平台" in failing.text
    with hechi.session() as s:
        state = get_plugin_manager().states(s, hechi.tenant)["sms_cloud"]
    assert state.enabled and state.raw_config["access_key_secret"] == cloud.secret
    assert state.raw_config["priority"] == 20
    with TestClient(app=app, base_url="http://testserver.local") as clerk:
        _login(clerk, "hechi-clerk")
        assert clerk.get(page_url).status_code == 403
    with TestClient(app=app, base_url="http://testserver.local") as other:
        _login(other, "bozhou-admin", "bozhou")
        # a bozhou session is nobody at hechi: sent to hechi's sign-in, no config shown
        foreign = other.get(page_url, follow_redirects=False)
        assert foreign.status_code in (302, 303, 401, 403)
        assert 'name="endpoint"' not in foreign.text


def test_a_map_is_typed_one_pair_a_line_and_a_refusal_keeps_what_was_typed() -> None:
    """An administrator who does not know JSON writes 模板编号对应 one ``名称: 值`` a line; a
    line without a separator is refused naming the field in Chinese, and the page shows the
    text as it was typed (not wrapped in quotes)."""
    from core.errors import InvalidInput
    from core.plugins.forms import fields_of, read_form

    schema = {
        "properties": {
            "template_codes": {"type": "object", "additionalProperties": {"type": "string"}}
        }
    }
    typed = "otp: SMS_1234\ncase_received：SMS_5678\n\n"
    assert read_form(schema, {"template_codes": typed}, {}) == {
        "template_codes": {"otp": "SMS_1234", "case_received": "SMS_5678"}
    }
    with pytest.raises(InvalidInput) as refused:
        read_form(schema, {"template_codes": "otp SMS_1234"}, {})
    detail = refused.value.detail
    assert detail.startswith("短信模板编号对应") and "JSON" not in detail
    shown = fields_of(schema, {"template_codes": "otp SMS_1234"})[0].value
    assert shown == "otp SMS_1234"

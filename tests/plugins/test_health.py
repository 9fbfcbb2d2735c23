"""Failures in sight: a plugin's exception and an SMS vendor's refusal, outage or timeout are
recorded for the county without waiting on the caller's locks (on SQLite a sign-in code
request holds the write lock), without secrets; three failures in a row make the plugin
异常 on its page and raise a banner on the county admin's pages, and the next success clears
both; the citizen reads a plain Chinese message, never the vendor's words."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, select

from core.db import Database
from core.errors import Conflict
from core.identity.models import LoginThrottle
from core.identity.service import request_sign_in_code
from core.notify import routing
from core.notify.types import NoSmsVendor
from core.plugins import PluginMeta, get_plugin_manager, hookimpl
from core.plugins.health import FAILING_AFTER
from core.plugins.models import PluginError, PluginHealth
from tests.cases.conftest import Desk
from tests.fakes import CloudSms, GenericGateway
from tests.helpers import account_token, bearer, csrf_token

SECRET = "gw-password-7731"


def _phone() -> str:
    return f"137{secrets.randbelow(10**8):08d}"


class LostVendors:
    """A vendor plugin that cannot even list its vendors (its key was revoked)."""

    meta = PluginMeta(name="lost_vendors", version="1.0", title="失联短信服务")

    @hookimpl
    def register_sms_vendors(self) -> list[Any]:
        raise RuntimeError("服务商拒绝了接口密钥")


@pytest.fixture
def hechi(db: Database) -> Iterator[Desk]:
    desk = Desk(db, "hechi")
    yield desk
    with db.session(scope=None) as s:  # the code requests of these tests count against nobody
        s.execute(delete(LoginThrottle).where(LoginThrottle.key.like("otp-%")))
        s.commit()


@pytest.fixture
def vendors(hechi: Desk) -> Iterator[Any]:
    """Turn SMS plugins on for hechi (console off unless asked); all back afterwards."""
    manager = get_plugin_manager()
    routing.reset()

    def enable(console: bool = False, **configs: dict[str, Any]) -> None:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "sms_console", console)
            for name, config in configs.items():
                manager.set_enabled(s, hechi.tenant, name, True, config)
            s.commit()

    yield enable
    with hechi.session() as s:
        for name in ("sms_cloud", "sms_gateway"):
            manager.set_enabled(s, hechi.tenant, name, False, {})
        manager.set_enabled(s, hechi.tenant, "sms_console", True)
        s.commit()
    routing.reset()


@pytest.fixture
def gateway() -> Iterator[GenericGateway]:
    fake = GenericGateway().start()
    yield fake
    fake.stop()


def gateway_config(fake: GenericGateway) -> dict[str, Any]:
    return {"url": fake.url + "/send", "static": {"password": SECRET}}


def _errors(hechi: Desk, plugin: str) -> list[PluginError]:
    with hechi.session() as s:
        return list(
            s.scalars(
                select(PluginError)
                .where(PluginError.tenant_id == hechi.tenant.id, PluginError.plugin == plugin)
                .order_by(PluginError.created_at.desc())
            )
        )


def _health(hechi: Desk, plugin: str) -> list[PluginHealth]:
    with hechi.session() as s:
        rows = list(
            s.scalars(
                select(PluginHealth).where(
                    PluginHealth.tenant_id == hechi.tenant.id, PluginHealth.plugin == plugin
                )
            )
        )
        s.expunge_all()
        return rows


def _code(hechi: Desk) -> None:
    """A sign-in code requested as the portal does: the request holds its writes (the
    code, the throttles) while the vendors are asked, and commits after."""
    with hechi.session() as s:
        try:
            request_sign_in_code(s, hechi.tenant, _phone())
            s.commit()
        except NoSmsVendor:
            s.rollback()
            raise


def _sign_in(client: TestClient, username: str) -> None:
    token = csrf_token(client, "/t/hechi/staff/login")
    answer = client.post(
        "/t/hechi/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
    )
    assert answer.status_code < 400


def test_a_plugin_failing_during_a_code_request_is_recorded_without_waiting(
    hechi: Desk,
) -> None:
    manager = get_plugin_manager()
    manager.register(LostVendors())
    try:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "lost_vendors", True)
            s.commit()
        before = len(_errors(hechi, "lost_vendors"))
        started = time.monotonic()
        _code(hechi)  # the console vendor still sends it
        took = time.monotonic() - started
        assert took < 1.0, f"the code request waited {took:.1f} s"
        errors = _errors(hechi, "lost_vendors")
        assert len(errors) == before + 1
        assert errors[0].hook == "register_sms_vendors"
        assert "服务商拒绝了接口密钥" in errors[0].message
    finally:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "lost_vendors", False)
            s.commit()
        manager.unregister("lost_vendors")


def test_a_failing_vendor_turns_red_raises_the_admins_banner_and_recovers(
    hechi: Desk, vendors, gateway: GenericGateway, client: TestClient
) -> None:
    vendors(sms_gateway=gateway_config(gateway))
    gateway.refuse = True  # the operator answers 101 账号余额不足
    for _ in range(FAILING_AFTER):
        with pytest.raises(NoSmsVendor):
            _code(hechi)
    errors = _errors(hechi, "sms_gateway")
    assert len(errors) >= FAILING_AFTER
    assert (errors[0].hook, errors[0].vendor) == ("send_sms", "gateway")
    assert "101" in errors[0].message and SECRET not in errors[0].message
    (health,) = _health(hechi, "sms_gateway")
    assert (health.vendor, health.failures) == ("gateway", FAILING_AFTER)

    _sign_in(client, "hechi-admin")
    for page in ("/t/hechi/admin", "/t/hechi/admin/staff", "/t/hechi/admin/plugins/"):
        banner = client.get(page).text
        assert 'data-testid="plugin-banner"' in banner, page
        assert "短信服务商“gateway”自" in banner and f"连续失败 {FAILING_AFTER} 次" in banner
        assert "验证码和通知可能发送不出去" in banner and "/t/hechi/admin/plugins/" in banner
    status = client.get("/t/hechi/admin/plugins/").text
    row = re.search(r'data-testid="health-sms_gateway">(.*?)</tr>', status, re.S).group(1)
    assert "异常" in row and f"连续失败 {FAILING_AFTER} 次" in row
    assert "发送短信" in status and SECRET not in status
    own = client.get("/t/hechi/admin/plugins/sms_gateway").text
    assert "异常" in own and "发送短信" in own and "服务商 gateway" in own
    # the portal is not an admin page: no banner for a citizen's eyes
    assert 'data-testid="plugin-banner"' not in client.get("/t/hechi/").text

    gateway.refuse = False
    _code(hechi)  # sent: the run of failures is over
    (health,) = _health(hechi, "sms_gateway")
    assert health.failures == 0 and health.last_ok_at is not None
    assert 'data-testid="plugin-banner"' not in client.get("/t/hechi/admin").text
    row = re.search(
        r'data-testid="health-sms_gateway">(.*?)</tr>',
        client.get("/t/hechi/admin/plugins/").text,
        re.S,
    ).group(1)
    assert "正常" in row and "异常" not in row


@pytest.mark.parametrize("how", ["down", "timeout"])
def test_a_vendor_down_or_too_slow_is_recorded_and_failed_over(
    hechi: Desk, vendors, gateway: GenericGateway, how: str
) -> None:
    cloud = CloudSms().start()
    try:
        vendors(
            sms_cloud={
                "endpoint": cloud.url,
                "access_key_id": cloud.key,
                "access_key_secret": cloud.secret,
                "template_codes": {"otp": "SMS_0001"},
                "priority": 10,
                "timeout_seconds": 0.3,
            },
            sms_gateway=gateway_config(gateway),
        )
        if how == "down":
            cloud.stop()
        else:
            cloud.delay = 1.0
        _code(hechi)  # the gateway sends it
        assert len(gateway.received) == 1
        (error, *_) = _errors(hechi, "sms_cloud")
        assert error.vendor == "cloud" and error.hook == "send_sms"
        assert ("Timeout" if how == "timeout" else "Connect") in error.message
        assert cloud.secret not in error.message
    finally:
        cloud.stop()


def test_every_vendor_failing_tells_the_citizen_plainly(
    hechi: Desk, vendors, gateway: GenericGateway, client: TestClient
) -> None:
    vendors(sms_gateway=gateway_config(gateway))
    gateway.refuse = True
    token = csrf_token(client, "/t/hechi/login")
    answer = client.post(
        "/t/hechi/login/code/request",
        data={"phone": _phone()},
        headers={"x-csrftoken": token, "HX-Request": "true"},
    )
    assert "短信发送失败，请稍后重试" in answer.text
    for internal in ("gateway", "101", "余额", SECRET):
        assert internal not in answer.text
    assert _errors(hechi, "sms_gateway")[0].vendor == "gateway"  # recorded all the same


class FailingCourier:
    meta = PluginMeta(name="failing_courier", version="1.0", title="停运快递")

    @hookimpl
    def create_shipment(self, shipment: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("快递平台接口 502：上游超时")


class FailingPayer:
    meta = PluginMeta(name="failing_payer", version="1.0", title="停运支付")

    @hookimpl
    def create_payment(self, payment: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("支付网关签名校验失败 sign=abc")


@pytest.fixture
def broken_vendors(hechi: Desk) -> Iterator[None]:
    manager = get_plugin_manager()
    for plugin in (FailingCourier(), FailingPayer()):
        manager.register(plugin)
    with hechi.session() as s:
        for name in ("failing_courier", "failing_payer"):
            manager.set_enabled(s, hechi.tenant, name, True)
        s.commit()
    yield
    with hechi.session() as s:
        for name in ("failing_courier", "failing_payer"):
            manager.set_enabled(s, hechi.tenant, name, False)
        s.commit()
    for name in ("failing_courier", "failing_payer"):
        manager.unregister(name)


def test_a_failing_courier_or_payment_plugin_is_recorded_and_never_quoted(
    hechi: Desk, broken_vendors: None, client: TestClient, db: Database
) -> None:
    from tests.cases.test_payments import _fee_item

    citizen, clerk = hechi.citizen("13800000001"), hechi.staff("hechi-clerk")
    address = "广西河池市金城江区新建路 18 号"
    number = hechi.apply(citizen, "HC-SC03", delivery="courier", address=address)
    hechi.act(clerk, number, "accept")
    hechi.act(hechi.staff("hechi-reviewer"), number, "review")
    hechi.act(hechi.staff("hechi-approver"), number, "approve")
    hechi.act(hechi.staff("hechi-issuer"), number, "issue")
    with pytest.raises(Conflict) as caught:  # 送达: the courier cannot book
        hechi.act(clerk, number, "deliver")
    said = caught.value.detail
    assert "快递" in said and "502" not in said and "上游" not in said
    assert hechi.case(number).state.value == "completed"  # nothing lost: 送达 can be retried
    (error, *_) = _errors(hechi, "failing_courier")
    assert error.hook == "create_shipment" and "502" in error.message

    owed = hechi.apply(citizen, _fee_item(hechi))
    hechi.act(clerk, owed, "accept")
    started = client.post(
        f"/api/v1/t/hechi/cases/{owed}/payment",
        headers=bearer(account_token(db, "hechi", "13800000001")),
    )
    assert started.status_code == 409
    assert "暂时无法使用" in started.json()["detail"]  # not "本地区未开通" while it is on
    assert "sign" not in started.text and "签名" not in started.text
    assert re.search(r"[\u4e00-\u9fff]", started.json()["detail"])
    (error, *_) = _errors(hechi, "failing_payer")
    assert error.hook == "create_payment" and "sign=" in error.message

"""Addresses a county configures for its vendors reach the public internet only: a loopback,
private, link-local or reserved address is refused when a county admin saves it, and when a
connection is made — also when a name resolved to a public address at save time and resolves
to 127.0.0.1 at send time (DNS rebinding). The test suite itself runs with
GOVHALL_OUTBOUND_ALLOW_PRIVATE on (its fake vendors listen on loopback); these tests turn it
off."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.config import reset_settings
from core.db import Database
from core.errors import InvalidInput
from core.plugins import SmsMessage, get_plugin_manager, pooled_client, url_problem
from core.plugins.outbound import forbidden_address
from plugins.sms_gateway import Config as GatewayConfig
from plugins.sms_gateway import GatewayVendor
from tests.cases.conftest import Desk
from tests.fakes import DepartmentSystem, GenericGateway
from tests.helpers import bearer, csrf_token, staff_token


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As in production: internal addresses refused."""
    monkeypatch.setenv("GOVHALL_OUTBOUND_ALLOW_PRIVATE", "0")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


INTERNAL = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.9",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "0.0.0.0",
    "224.0.0.251",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_forbidden(address: str) -> None:
    assert forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["1.1.1.1", "114.114.114.114", "2400:3200::1"])
def test_public_addresses_are_not(address: str) -> None:
    assert not forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:18999/dept",
        "http://localhost:8731/healthz",
        "http://sms.localhost/send",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8000/",
        "http://[::ffff:7f00:1]/",
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://0x7f.1/",
        "https://10.0.0.8/api",
    ],
)
def test_a_configured_internal_address_is_a_plain_problem(guarded: None, url: str) -> None:
    problem = url_problem(url)
    assert problem is not None and "不能指向本机、内网" in problem


def test_a_public_or_unresolvable_address_is_accepted(guarded: None) -> None:
    assert url_problem("https://8.8.8.8/sms") is None
    assert url_problem("https://sms.vendor.invalid/send") is None  # checked when connecting
    assert url_problem("ftp://8.8.8.8/") == "地址应以 http:// 或 https:// 开头"


def _admin(client: Any) -> None:
    token = csrf_token(client, "/t/hechi/staff/login")
    answer = client.post(
        "/t/hechi/staff/login",
        data={"username": "hechi-admin", "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code in (302, 303), answer.text


def test_a_county_admin_cannot_save_a_loopback_gateway(client, db: Database, guarded) -> None:
    _admin(client)
    token = csrf_token(client, "/t/hechi/admin/plugins/sms_gateway")
    answer = client.post(
        "/t/hechi/admin/plugins/sms_gateway/config",
        data={
            "enabled": "on",
            "url": "http://127.0.0.1:8731/healthz",
            "method": "GET",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 422
    assert "不能指向本机、内网" in answer.text
    hechi = Desk(db, "hechi")
    with hechi.session() as s:
        state = get_plugin_manager().states(s, hechi.tenant)["sms_gateway"]
        assert "127.0.0.1" not in str(state.raw_config)


@pytest.mark.parametrize(
    ("name", "config"),
    [
        (
            "dept_webhooks",
            {
                "departments": [
                    {
                        "code": "HC-SCJ",
                        "url": "http://192.168.10.5/dept",
                        "secret": "abcdefghijklmnop1234567890",
                    }
                ]
            },
        ),
        ("sms_gateway", {"url": "http://localhost:8731/send"}),
        ("sms_cloud", {"endpoint": "http://169.254.169.254"}),
        ("courier_post", {"endpoint": "http://[::1]:9000"}),
    ],
)
def test_the_api_refuses_internal_addresses_too(
    client, db: Database, guarded, name: str, config: dict[str, Any]
) -> None:
    headers = bearer(staff_token(db, "hechi", "hechi-admin"))
    answer = client.put(
        f"/api/v1/t/hechi/plugins/{name}",
        json={"enabled": True, "config": config},
        headers=headers,
    )
    assert answer.status_code == 422, answer.text
    assert "不能指向本机、内网" in answer.text


def test_the_manager_names_the_field(db: Database, guarded) -> None:
    hechi = Desk(db, "hechi")
    with hechi.session() as s, pytest.raises(InvalidInput) as refused:
        get_plugin_manager().set_enabled(
            s,
            hechi.tenant,
            "dept_webhooks",
            False,  # saved switched off is refused all the same
            {"departments": [{"code": "HC-SCJ", "url": "http://127.0.0.1/", "secret": "x" * 20}]},
        )
    assert refused.value.field == "departments"
    assert "departments 第 1 项的 url" in refused.value.detail


@pytest.fixture
def gateway() -> Iterator[GenericGateway]:
    fake = GenericGateway().start()
    yield fake
    fake.stop()


def _rebinding(monkeypatch: pytest.MonkeyPatch, name: str, answers: list[str]) -> list[str]:
    """``name`` resolves to each of ``answers`` in turn (the last one thereafter)."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)
        address = answers[min(len(asked), len(answers) - 1)]
        asked.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]

    monkeypatch.setattr("core.plugins.outbound.socket.getaddrinfo", getaddrinfo)
    return asked


def test_a_name_resolving_to_loopback_is_refused_at_send_time(
    gateway: GenericGateway, guarded, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://gw.vendor.test:{gateway.port}/send"
    asked = _rebinding(monkeypatch, "gw.vendor.test", ["8.8.4.4", "127.0.0.1"])
    assert url_problem(url) is None  # public when the admin saved it
    vendor = GatewayVendor(GatewayConfig(url=url))
    message = SmsMessage(
        id="m1",
        tenant_slug="hechi",
        phone="13900000000",
        template="otp",
        params={},
        signature="【测试】",
        text="x",
    )
    with pytest.raises(httpx.ConnectError) as refused:
        vendor.send(message)
    assert "127.0.0.1" in str(refused.value) and "不能访问本机、内网" in str(refused.value)
    assert asked == ["8.8.4.4", "127.0.0.1"]
    assert gateway.received == []


def test_the_self_check_says_so_too(gateway: GenericGateway, guarded, monkeypatch) -> None:
    from plugins.sms_gateway import meta

    _rebinding(monkeypatch, "gw.vendor.test", ["127.0.0.1"])
    problems = meta.check(GatewayConfig(url=f"http://gw.vendor.test:{gateway.port}/healthz"))
    assert problems and "不能指向本机、内网" in problems[0]
    assert gateway.received == []


def test_with_the_development_setting_the_loopback_fake_is_reached(
    gateway: GenericGateway,
) -> None:
    """The suite's own setting (tests/conftest.py): the fakes on loopback answer."""
    vendor = GatewayVendor(GatewayConfig(url=gateway.url + "/send"))
    message = SmsMessage(
        id="m2",
        tenant_slug="hechi",
        phone="13900000000",
        template="otp",
        params={},
        signature="【测试】",
        text="x",
    )
    assert vendor.send(message).ok
    assert len(gateway.received) == 1


def test_a_department_webhook_to_loopback_is_not_posted(guarded) -> None:
    system = DepartmentSystem("x" * 20).start()
    try:
        with pytest.raises(httpx.ConnectError):
            pooled_client(10).post(system.url + "/events", content=b"{}")
        assert system.received == []
    finally:
        system.stop()


def test_the_client_follows_no_redirect_and_no_environment_proxy() -> None:
    client = pooled_client(7.5)
    assert client.follow_redirects is False
    assert client.trust_env is False


def test_production_refuses_the_development_setting() -> None:
    from core.config import _from_env

    problems = _from_env(
        {"GOVHALL_ENV": "production", "GOVHALL_OUTBOUND_ALLOW_PRIVATE": "1"}
    ).check()
    assert any("GOVHALL_OUTBOUND_ALLOW_PRIVATE" in p for p in problems)

"""Plugin secrets are write-only everywhere: planted into every plugin that declares one (and a
test vendor whose `api_key` is declared secret and whose failures quote it), no API answer,
no page, no command output and no recorded error shows them; sent back as the mask, a secret
keeps its value."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from core.db import Database
from core.plugins import SECRET_MASK, PluginMeta, Secret, get_plugin_manager, hookimpl
from tests.cases.conftest import Desk
from tests.helpers import bearer, csrf_token, staff_token


class KeyConfig(msgspec.Struct, kw_only=True):
    endpoint: str = "https://vendor.example/api"
    api_key: Secret = ""  # not named secret/password/token: declared


class LeakyVendor:
    """A vendor library that puts its credentials into its error messages."""

    meta = PluginMeta(name="leaky_vendor", version="1.0", title="泄露测试", config=KeyConfig)

    @hookimpl
    def extra_template_vars(self, template: str, config: KeyConfig) -> dict[str, Any]:
        raise RuntimeError(f"401 from {config.endpoint}?key={config.api_key}")


PLANTED: dict[str, dict[str, Any]] = {
    "sms_cloud": {"endpoint": "https://sms.example", "access_key_secret": "PLANT-cloud-8f3a1c"},
    "courier_post": {"endpoint": "https://post.example", "secret": "PLANT-post-77d2e0"},
    "sms_gateway": {"url": "https://gw.example", "static": {"password": "PLANT-gw-5b9c44"}},
    "dept_webhooks": {
        "departments": [
            {"code": "HC-SCJ", "url": "https://scj.example/hook", "secret": "PLANT-dept-1e6f0b9a"}
        ]
    },
    "leaky_vendor": {"api_key": "PLANT-key-c0ffee42"},
}
VALUES = ["PLANT-cloud-8f3a1c", "PLANT-post-77d2e0", "PLANT-gw-5b9c44", "PLANT-dept-1e6f0b9a"]
VALUES += ["PLANT-key-c0ffee42", "PLANT-console-4242aa"]


@pytest.fixture
def planted(db: Database) -> Iterator[Desk]:
    manager = get_plugin_manager()
    manager.register(LeakyVendor())
    hechi = Desk(db, "hechi")
    with hechi.session() as s:
        for name, config in PLANTED.items():
            manager.set_enabled(s, hechi.tenant, name, name == "leaky_vendor", config)
        manager.set_enabled(
            s, hechi.tenant, "sms_console", True, {"webhook_token": "PLANT-console-4242aa"}
        )
        s.commit()
    yield hechi
    with hechi.session() as s:
        for name in PLANTED:
            manager.set_enabled(s, hechi.tenant, name, False, {})
        manager.set_enabled(s, hechi.tenant, "sms_console", True, {})
        s.commit()
    manager.unregister("leaky_vendor")


def _leaks(text: str) -> list[str]:
    return [v for v in VALUES if v in text]


def _fill(path: str) -> str:
    values = {"slug": "hechi", "name": "leaky_vendor", "code": "HC-SC03", "fmt": "csv"}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "x"), path)


def test_no_api_answer_page_or_command_shows_a_secret(app, client, planted: Desk, db) -> None:
    admin = staff_token(db, "hechi", "hechi-admin")
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = csrf_token(browser, "/t/hechi/staff/login")
        browser.post(
            "/t/hechi/staff/login",
            data={"username": "hechi-admin", "password": "Demo-2026", "_csrf_token": token},
        )
        assert browser.get("/t/hechi/").status_code == 200  # the leaky hook fails and is recorded
        seen = 0
        for route in app.routes:
            if "GET" not in getattr(route, "methods", set()):
                continue
            if not route.path.startswith(("/api/v1/t/{slug", "/t/{slug")):
                continue
            path = _fill(route.path)
            if path.startswith("/api/"):
                answer = client.get(path, headers=bearer(admin))
            else:
                answer = browser.get(path)
            assert not _leaks(answer.text), (path, _leaks(answer.text))
            seen += 1
        assert seen > 60
        for name in [*PLANTED, "sms_console"]:
            page = browser.get(f"/t/hechi/admin/plugins/{name}")
            assert page.status_code == 200 and not _leaks(page.text), name
            checked = browser.post(
                f"/t/hechi/admin/plugins/{name}/check", data={"_csrf_token": token}
            )
            assert not _leaks(checked.text), name
    listed = client.get("/api/v1/t/hechi/plugins", headers=bearer(admin)).json()
    by_name = {p["name"]: p for p in listed}
    assert by_name["sms_cloud"]["config"]["access_key_secret"] == SECRET_MASK
    assert by_name["sms_gateway"]["config"]["static"] == {"password": SECRET_MASK}
    assert by_name["dept_webhooks"]["config"]["departments"][0]["secret"] == SECRET_MASK
    assert by_name["leaky_vendor"]["config"]["api_key"] == SECRET_MASK
    assert by_name["leaky_vendor"]["config_schema"]["properties"]["api_key"]["writeOnly"]
    errors = " ".join(by_name["leaky_vendor"]["recent_errors"])
    assert "401 from https://vendor.example/api?key=" + SECRET_MASK in errors
    from web.cli import main

    for args in (["plugins", "list", "--json", "--tenant", "hechi"], ["tenants", "list", "--json"]):
        printed = CliRunner().invoke(main, args)
        assert printed.exit_code == 0 and not _leaks(printed.output), args


def test_a_secret_sent_back_as_the_mask_keeps_its_value(client, planted: Desk, db) -> None:
    admin = staff_token(db, "hechi", "hechi-admin")
    shown = next(
        p
        for p in client.get("/api/v1/t/hechi/plugins", headers=bearer(admin)).json()
        if p["name"] == "dept_webhooks"
    )["config"]
    shown["departments"][0]["events"] = ["accept"]
    saved = client.put(
        "/api/v1/t/hechi/plugins/dept_webhooks",
        content=json.dumps({"enabled": False, "config": shown}),
        headers={**bearer(admin), "content-type": "application/json"},
    )
    assert saved.status_code == 200, saved.text
    with planted.session() as s:
        state = get_plugin_manager().states(s, planted.tenant)["dept_webhooks"]
    department = state.raw_config["departments"][0]
    assert department["events"] == ["accept"]
    assert department["secret"] == "PLANT-dept-1e6f0b9a"


def test_a_kept_secret_does_not_follow_its_settings_to_a_new_address(
    client, planted: Desk, db
) -> None:
    admin = staff_token(db, "hechi", "hechi-admin")

    def put(name: str, config: dict[str, Any]):
        return client.put(
            f"/api/v1/t/hechi/plugins/{name}",
            content=json.dumps({"enabled": False, "config": config}),
            headers={**bearer(admin), "content-type": "application/json"},
        )

    moved = put("courier_post", {"endpoint": "http://127.0.0.1:9/steal", "secret": SECRET_MASK})
    assert moved.status_code == 422 and "请重新填写密钥" in moved.json()["detail"]
    gateway = put(
        "sms_gateway", {"url": "http://127.0.0.1:9/x", "static": {"password": SECRET_MASK}}
    )
    assert gateway.status_code == 422
    same = put("courier_post", {"endpoint": "https://post.example", "secret": SECRET_MASK})
    assert same.status_code == 200, same.text
    with planted.session() as s:
        saved = get_plugin_manager().states(s, planted.tenant)["courier_post"].raw_config
    assert saved["secret"] == "PLANT-post-77d2e0"
    retyped = put("courier_post", {"endpoint": "https://post2.example", "secret": "new-secret-1"})
    assert retyped.status_code == 200

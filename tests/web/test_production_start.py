"""A production start refuses what would make it unsafe: short or default keys, a plain-http
public address, no signing key for ID tokens; https answers carry HSTS; the console SMS
vendor, which writes texts and phone numbers to a file, cannot be turned on."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from core.config import Settings, reset_settings
from core.db import Database
from core.errors import InvalidInput
from core.plugins import get_plugin_manager
from tests.cases.conftest import Desk

GOOD_SECRET = "x" * 40
GOOD_DATA_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()


def _production(tmp_path: Path, **changes: object) -> Settings:
    key = tmp_path / "oidc.pem"
    key.write_text("not read by check()")
    values: dict[str, object] = {
        "env": "production",
        "secret_key": GOOD_SECRET,
        "data_key": GOOD_DATA_KEY,
        "database_url": "postgresql://govhall@db/govhall",
        "base_url": "https://zwfw.hechi.gov.cn",
        "oidc_key_file": str(key),
    }
    values.update(changes)
    return msgspec.convert(values, Settings)


def test_a_sound_production_configuration_passes(tmp_path: Path) -> None:
    assert _production(tmp_path).check() == []


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"secret_key": "short-but-not-default"}, "at least 32 bytes"),
        ({"base_url": "http://zwfw.hechi.gov.cn"}, "must be https://"),
        ({"oidc_key_file": ""}, "GOVHALL_OIDC_KEY_FILE is not set"),
        ({"oidc_key_file": "/nonexistent/oidc.pem"}, "does not exist"),
        ({"trusted_proxies": "10.0.0.0/8, proxy.local"}, "is not an address"),
    ],
)
def test_an_unsafe_production_configuration_is_refused(
    tmp_path: Path, changes: dict[str, object], complaint: str
) -> None:
    problems = _production(tmp_path, **changes).check()
    assert any(complaint in p for p in problems), problems


def test_plain_http_may_be_allowed_for_a_closed_network(tmp_path: Path) -> None:
    settings = _production(tmp_path, base_url="http://10.1.2.3", allow_http=True)
    assert settings.check() == []


@pytest.fixture
def production_env(tmp_path: Path) -> Iterator[None]:
    saved = dict(os.environ)
    key = tmp_path / "oidc.pem"
    key.write_text("x")
    os.environ.update(
        {
            "GOVHALL_ENV": "production",
            "GOVHALL_SECRET_KEY": "short",
            "GOVHALL_DATA_KEY": GOOD_DATA_KEY,
            "GOVHALL_DATABASE_URL": "sqlite:///unused",
            "GOVHALL_BASE_URL": "http://zwfw.example",
            "GOVHALL_OIDC_KEY_FILE": str(key),
        }
    )
    reset_settings()
    yield
    os.environ.clear()
    os.environ.update(saved)
    reset_settings()


def test_the_app_will_not_start_unsafe(production_env: None, db: Database) -> None:
    from web.app import create_app

    with pytest.raises(RuntimeError) as refused:
        create_app(database=db)
    assert "at least 32 bytes" in str(refused.value) and "https://" in str(refused.value)


def test_the_environment_can_allow_http(production_env: None) -> None:
    os.environ["GOVHALL_ALLOW_HTTP"] = "1"
    reset_settings()
    from core.config import get_settings

    assert get_settings().allow_http is True


def test_https_answers_carry_hsts_and_http_ones_do_not(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web.app import create_app

    def hsts(base_url: str) -> str | None:
        monkeypatch.setenv("GOVHALL_BASE_URL", base_url)
        reset_settings()
        with TestClient(app=create_app(database=db), base_url=base_url) as browser:
            return browser.get("/t/hechi/").headers.get("strict-transport-security")

    try:
        assert "max-age=31536000" in (hsts("https://zwfw.hechi.example") or "")
        assert hsts("http://127.0.0.1:8000") is None
    finally:
        monkeypatch.delenv("GOVHALL_BASE_URL")
        reset_settings()


def test_the_console_sms_vendor_cannot_be_enabled_in_production(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hechi = Desk(db, "hechi")
    manager = get_plugin_manager()
    with hechi.session() as s:
        assert manager.states(s, hechi.tenant)["sms_console"].enabled  # the demo has it on
    monkeypatch.setenv("GOVHALL_ENV", "production")
    reset_settings()
    try:
        with hechi.session() as s:
            assert not manager.states(s, hechi.tenant)["sms_console"].enabled
            assert "sms_console" not in manager.for_tenant(s, hechi.tenant).enabled_names()
            with pytest.raises(InvalidInput) as refused:
                manager.set_enabled(s, hechi.tenant, "sms_console", True, {})
            assert "仅供开发使用" in refused.value.detail
    finally:
        monkeypatch.delenv("GOVHALL_ENV")
        reset_settings()

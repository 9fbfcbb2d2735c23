"""Installed ≠ enabled: a plugin a county enabled whose package is gone (or whose version this
core does not support) is reported at start, by ``govhall plugins check`` and on the county's
admin pages; the items it provided show 暂停办理 and applying is refused in Chinese (503, never
the English 404); a package installed after the server started shows 需要重启服务后生效."""

from __future__ import annotations

import json
import logging
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import delete

import plugins.local_suning as local_suning
from core.db import Database
from core.plugins import PluginMeta, get_plugin_manager, hookimpl
from core.plugins.models import TenantPlugin
from core.tenancy import scope_for
from tests.helpers import account_token, bearer, csrf_token, tenant

ITEM = "SN-CJ01"  # 农村居民最低生活保障申请（村级代办）, from local_suning


def _enabled(db: Database, slug: str, name: str) -> bool:
    suning = tenant(db, slug)
    with db.session(scope=scope_for(suning)) as s:
        row = s.get(TenantPlugin, (suning.id, name))
        return bool(row and row.enabled)


@pytest.fixture
def package_removed(db: Database) -> Iterator[None]:
    """Suning runs local_suning, then its package goes missing; all back afterwards."""
    manager = get_plugin_manager()
    suning = tenant(db, "suning")
    was = _enabled(db, "suning", "local_suning")
    with db.session(scope=scope_for(suning)) as s:
        manager.set_enabled(s, suning, "local_suning", True)
        s.commit()
    manager.unregister("local_suning")
    try:
        yield
    finally:
        manager.register(local_suning)
        with db.session(scope=scope_for(suning)) as s:
            manager.set_enabled(s, suning, "local_suning", was)
            s.commit()


def _sign_in(client: TestClient, slug: str, username: str) -> str:
    token = csrf_token(client, f"/t/{slug}/staff/login")
    client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
    )
    return token


def test_its_items_are_suspended_in_chinese_not_missing(
    package_removed: None, client: TestClient, db: Database
) -> None:
    guide = client.get(f"/t/suning/items/{ITEM}")
    assert guide.status_code == 200
    assert 'data-testid="suspended"' in guide.text and "暂停办理" in guide.text
    assert 'data-testid="apply"' not in guide.text
    assert "no process definition" not in guide.text
    listed = client.get("/t/suning/items", params={"q": "最低生活保障"})
    (row,) = [r for r in listed.text.split('class="list-group-item') if f"/items/{ITEM}" in r]
    assert 'data-testid="suspended-badge"' in row  # the list says so before the guide does
    form = client.get(f"/t/suning/items/{ITEM}/apply", follow_redirects=False)
    assert form.status_code in (302, 303) and form.headers["location"].endswith(f"/items/{ITEM}")

    citizen = account_token(db, "suning", "13800000064")
    answer = client.post("/api/v1/t/suning/cases", json={"item": ITEM}, headers=bearer(citizen))
    assert answer.status_code == 503
    assert answer.json()["error"] == "item_suspended"
    assert "暂停办理" in answer.json()["detail"] and "process" not in answer.json()["detail"]


def test_the_start_the_check_command_and_the_admin_pages_report_it(
    package_removed: None, client: TestClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    from core.config import get_settings
    from web.app import create_app
    from web.cli import main

    with caplog.at_level(logging.WARNING, logger="govhall.plugins"):
        create_app(get_settings(), db)
    said = [r.getMessage() for r in caplog.records if "local_suning" in r.getMessage()]
    assert said and "肃宁县" in said[0] and "已启用但未安装" in said[0]

    checked = CliRunner().invoke(main, ["plugins", "check", "--json"])
    assert checked.exit_code == 1, checked.output
    report = json.loads(checked.output)
    (problem,) = [p for p in report["tenants"]["suning"] if p["name"] == "local_suning"]
    assert problem["problem"] == "missing" and problem["label"] == "已启用但未安装"
    assert ITEM in problem["items"] and "重启服务" in problem["advice"]
    plain = CliRunner().invoke(main, ["plugins", "check", "--tenant", "suning"])
    assert plain.exit_code == 1 and "local_suning 已启用但未安装" in plain.output

    token = _sign_in(client, "suning", "suning-admin")
    banner = client.get("/t/suning/admin").text
    assert "插件“local_suning”已启用但服务器上未安装，它提供的事项暂停办理。" in banner
    status = client.get("/t/suning/admin/plugins/").text
    assert 'data-testid="problem-local_suning"' in status and "已启用但未安装" in status
    assert ITEM in status  # the items it suspends, named

    # not coming back: the admin switches it off; its items stay suspended, nothing nags
    off = client.post(
        "/t/suning/admin/plugins/local_suning",
        data={"back": "status", "_csrf_token": token},
        follow_redirects=False,
    )
    assert off.status_code in (302, 303)
    assert not _enabled(db, "suning", "local_suning")
    assert 'data-testid="problem-local_suning"' not in client.get("/t/suning/admin/plugins/").text
    assert "暂停办理" in client.get(f"/t/suning/items/{ITEM}").text


class OldVendor:
    """A plugin upgraded past what this core supports."""

    meta = PluginMeta(name="old_banner", version="9.0", title="旧版公告插件", core_compat="<0.1")

    @hookimpl
    def extra_template_vars(self, template: str) -> dict[str, str]:
        return {"old_banner": "旧版插件仍在运行"}


def test_an_incompatible_version_is_not_called_and_is_reported(
    client: TestClient, db: Database
) -> None:
    from web.cli import main

    manager = get_plugin_manager()
    manager.register(OldVendor())
    hechi = tenant(db, "hechi")
    try:
        with db.session(scope=scope_for(hechi)) as s:  # enabled before the upgrade
            s.add(TenantPlugin(tenant_id=hechi.id, name="old_banner", enabled=True, config={}))
            s.commit()
        with db.session(scope=scope_for(hechi)) as s:
            hooks = manager.for_tenant(s, hechi)
            assert "old_banner" not in hooks.enabled_names()
            shown = hooks.call("extra_template_vars", template="portal/home.html")
            assert all("old_banner" not in v for v in shown)
        report = json.loads(CliRunner().invoke(main, ["plugins", "check", "--json"]).output)
        (problem,) = [p for p in report["tenants"]["hechi"] if p["name"] == "old_banner"]
        assert problem["problem"] == "incompatible" and problem["label"] == "版本不兼容"
        assert "<0.1" in problem["advice"]
    finally:
        with db.session(scope=scope_for(hechi)) as s:
            s.execute(delete(TenantPlugin).where(TenantPlugin.name == "old_banner"))
            s.commit()
        manager.unregister("old_banner")


def test_a_package_installed_after_the_start_needs_a_restart(
    client: TestClient, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web.cli import main

    assert client.get("/healthz").status_code == 200  # the server has started
    info = tmp_path / "govhall_late_vendor-1.0.dist-info"
    info.mkdir()
    metadata = "Metadata-Version: 2.1\nName: govhall-late-vendor\nVersion: 1.0\n"
    (info / "METADATA").write_text(metadata)
    (info / "entry_points.txt").write_text(
        textwrap.dedent("""\
            [govhall]
            late_vendor = govhall_late_vendor
            """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert get_plugin_manager().installed_since_start() == ["late_vendor"]

    _sign_in(client, "hechi", "hechi-admin")
    status = client.get("/t/hechi/admin/plugins/").text
    assert 'data-testid="problem-late_vendor"' in status and "需要重启服务后生效" in status
    checked = CliRunner().invoke(main, ["plugins", "check", "--json"])
    assert checked.exit_code == 1
    assert "late_vendor" in json.loads(checked.output)["restart_needed"]

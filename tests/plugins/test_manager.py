"""The plugin manager: per-tenant enablement, isolation of a raising plugin, async hooks,
entry-point discovery, and check_pending()."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec
import pluggy
import pytest
from click.testing import CliRunner

from core.db import Database
from core.errors import InvalidInput
from core.plugins import PluginManager, PluginMeta, get_plugin_manager, hookimpl
from core.tenancy import scope_for
from tests.helpers import tenant


def _plugin(name: str, **hooks) -> types.SimpleNamespace:
    return types.SimpleNamespace(meta=PluginMeta(name=name, version="1.0", title=name), **hooks)


class GreeterConfig(msgspec.Struct):
    greeting: str = "你好"


class Greeter:
    meta = PluginMeta(name="greeter", version="1.2", title="问候", config=GreeterConfig)

    @hookimpl
    def extra_template_vars(self, tenant, config, template):
        return {"greeter_banner": f"{config.greeting}, {tenant.name}"}


class Broken:
    meta = PluginMeta(name="broken", version="0.1", title="坏插件")

    @hookimpl
    def extra_template_vars(self, tenant):
        raise RuntimeError("vendor API key rejected")


class AsyncVendor:
    meta = PluginMeta(name="async_vendor", version="0.1", title="异步短信")

    @hookimpl
    async def register_sms_vendors(self, tenant):
        await asyncio.sleep(0)
        return [types.SimpleNamespace(name=f"async-{tenant.slug}", priority=1)]


@pytest.fixture
def manager() -> Iterator[PluginManager]:
    pm = get_plugin_manager()
    for plugin in (Greeter(), Broken(), AsyncVendor()):
        pm.register(plugin)
    yield pm
    for name in ("greeter", "broken", "async_vendor"):
        pm.unregister(name)


def test_in_tree_plugins_are_discovered_through_the_entry_point() -> None:
    fresh = PluginManager(load_entrypoints=True)
    assert "sms_console" in fresh.metas
    assert fresh.metas["sms_console"].compatible()


def test_a_misspelt_hook_fails_loudly_at_registration() -> None:
    class Typo:
        meta = PluginMeta(name="typo", version="0.1", title="typo")

        @hookimpl
        def register_sms_vendor(self):  # missing the s
            return []

    fresh = PluginManager(load_entrypoints=False)
    with pytest.raises(pluggy.PluginValidationError):
        fresh.register(Typo())


def test_hooks_reach_only_the_tenants_enabled_plugins(manager: PluginManager, db: Database) -> None:
    hechi, bozhou = tenant(db, "hechi"), tenant(db, "bozhou")
    with db.session(scope=scope_for(hechi)) as session:
        manager.set_enabled(session, hechi, "greeter", True, {"greeting": "欢迎"})
        session.commit()
    with db.session(scope=scope_for(hechi)) as session:
        hechi_vars = manager.for_tenant(session, hechi).call(
            "extra_template_vars", template="x.html"
        )
    with db.session(scope=scope_for(bozhou)) as session:
        bozhou_vars = manager.for_tenant(session, bozhou).call(
            "extra_template_vars", template="x.html"
        )
    assert {"greeter_banner": "欢迎, 河池市"} in hechi_vars
    assert bozhou_vars == []


def test_enabled_plugin_variables_reach_the_portal_page(
    manager: PluginManager, client, db: Database
) -> None:
    cili = tenant(db, "cili")
    with db.session(scope=scope_for(cili)) as session:
        manager.set_enabled(session, cili, "greeter", True, {"greeting": "欢迎来到"})
        session.commit()
    assert "欢迎来到, 慈利县" in client.get("/t/cili/").text
    assert "欢迎来到" not in client.get("/t/suning/").text


def test_a_raising_plugin_is_isolated_and_its_error_recorded(
    manager: PluginManager, client, db: Database
) -> None:
    suning = tenant(db, "suning")
    with db.session(scope=scope_for(suning)) as session:
        manager.set_enabled(session, suning, "broken", True)
        manager.set_enabled(session, suning, "greeter", True)
        session.commit()
    page = client.get("/t/suning/")
    assert page.status_code == 200 and "你好, 肃宁县" in page.text
    with db.session(scope=scope_for(suning)) as session:
        errors = manager.recent_errors(session, suning)
    assert (
        errors and errors[0].plugin == "broken" and "vendor API key rejected" in errors[0].message
    )
    # another tenant neither sees the failure nor its record
    assert client.get("/t/hechi/").status_code == 200
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as session:
        assert all(e.plugin != "broken" for e in manager.recent_errors(session, hechi))


def test_async_hook_implementations_are_resolved(manager: PluginManager, db: Database) -> None:
    guangzhou = tenant(db, "guangzhou")
    with db.session(scope=scope_for(guangzhou)) as session:
        manager.set_enabled(session, guangzhou, "async_vendor", True)
        session.commit()
        groups = manager.for_tenant(session, guangzhou).call("register_sms_vendors")
    names = [v.name for group in groups for v in group]
    assert "async-guangzhou" in names and "console" in names


def test_a_config_that_breaks_the_schema_is_refused_by_name(
    manager: PluginManager, db: Database
) -> None:
    from core.errors import InvalidInput

    hechi = tenant(db, "hechi")
    with (
        db.session(scope=scope_for(hechi)) as session,
        pytest.raises(InvalidInput, match="greeting"),
    ):
        manager.set_enabled(session, hechi, "greeter", True, {"greeting": 42})


def test_self_check_reports_problems(db: Database) -> None:
    from core.config import get_settings

    manager = get_plugin_manager()
    bozhou = tenant(db, "bozhou")
    blocked = Path(get_settings().var_dir) / "file-not-dir"
    blocked.write_text("x")
    with db.session(scope=scope_for(bozhou)) as session:
        manager.set_enabled(
            session, bozhou, "sms_console", True, {"outbox_path": "file-not-dir/outbox.jsonl"}
        )
        problems = manager.self_check(session, bozhou, "sms_console")
        session.rollback()
        healthy = manager.self_check(session, bozhou, "sms_console")
    assert problems and "cannot create" in problems[0]
    assert healthy == []


@pytest.mark.parametrize("path", ["/etc/cron.d/x", "../../outside.jsonl", "a/../../b.jsonl"])
def test_the_console_vendor_writes_nowhere_but_under_var(db: Database, path: str) -> None:
    manager = get_plugin_manager()
    bozhou = tenant(db, "bozhou")
    with db.session(scope=scope_for(bozhou)) as session:
        with pytest.raises(InvalidInput, match="var 目录"):
            manager.set_enabled(session, bozhou, "sms_console", True, {"outbox_path": path})
        session.rollback()


def test_cli_lists_and_toggles_plugins_per_tenant(db: Database) -> None:
    import json

    from web.cli import main

    runner = CliRunner()
    listed = json.loads(runner.invoke(main, ["plugins", "list", "--json"]).output)
    assert any(p["name"] == "sms_console" for p in listed)
    off = runner.invoke(main, ["plugins", "disable", "--tenant", "guangzhou", "sms_console"])
    assert off.exit_code == 0, off.output
    state = json.loads(
        runner.invoke(main, ["plugins", "list", "--json", "--tenant", "guangzhou"]).output
    )
    assert next(p for p in state if p["name"] == "sms_console")["enabled"] is False
    other = json.loads(
        runner.invoke(main, ["plugins", "list", "--json", "--tenant", "hechi"]).output
    )
    assert next(p for p in other if p["name"] == "sms_console")["enabled"] is True
    bad = runner.invoke(
        main, ["plugins", "enable", "--tenant", "guangzhou", "--config", "[1]", "sms_console"]
    )
    assert bad.exit_code == 2
    assert (
        runner.invoke(main, ["plugins", "enable", "--tenant", "guangzhou", "sms_console"]).exit_code
        == 0
    )


def test_async_hooks_resolve_even_inside_a_running_event_loop(
    manager: PluginManager, db: Database
) -> None:
    guangzhou = tenant(db, "guangzhou")
    with db.session(scope=scope_for(guangzhou)) as session:
        manager.set_enabled(session, guangzhou, "async_vendor", True)
        session.commit()

    async def from_async_code() -> list:
        with db.session(scope=scope_for(guangzhou)) as session:
            return manager.for_tenant(session, guangzhou).call("register_sms_vendors")

    # A thread of its own, so that the test does not depend on this thread's loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        groups = pool.submit(asyncio.run, from_async_code()).result()
    assert "async-guangzhou" in [v.name for group in groups for v in group]

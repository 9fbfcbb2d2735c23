"""The test kit a vendor's suite uses (docs/plugins.md, "Testing a plugin"), from
``core.plugins`` alone: ``registered`` puts a plugin in place of the installed copy of the
same name for a block and puts the installed one back; ``sample_tenant`` is a county to pass
to hooks; ``undeclared_secrets`` names fields secret only by their names."""

from __future__ import annotations

import types

import msgspec
import pytest

from core.plugins import (
    PluginMeta,
    get_plugin_manager,
    hookimpl,
    registered,
    sample_tenant,
    undeclared_secrets,
)


def _stand_in(name: str) -> types.SimpleNamespace:
    calls: list[str] = []

    @hookimpl
    def extra_template_vars(config: object, template: str) -> dict[str, str]:
        calls.append(template)
        return {"stand_in": name}

    return types.SimpleNamespace(
        meta=PluginMeta(name=name, title="替身", version="1.0.0"),
        extra_template_vars=extra_template_vars,
        calls=calls,
    )


def test_a_plugin_stands_in_for_the_installed_one_of_its_name_and_steps_back() -> None:
    manager = get_plugin_manager()
    installed = manager.pm.get_plugin("sms_console")
    assert installed is not None  # shipped, installed by its entry point
    stand_in = _stand_in("sms_console")
    with registered(stand_in) as inside:
        assert inside is manager
        assert manager.pm.get_plugin("sms_console") is stand_in
        assert manager.meta("sms_console").title == "替身"
        answers = manager.pm.hook.extra_template_vars(
            tenant=sample_tenant(), config=None, template="portal/home.html"
        )
        assert {"stand_in": "sms_console"} in answers
    assert manager.pm.get_plugin("sms_console") is installed
    assert manager.meta("sms_console").title != "替身"


def test_a_new_plugin_is_gone_after_the_block_even_when_the_test_fails() -> None:
    manager = get_plugin_manager()
    with pytest.raises(RuntimeError), registered(_stand_in("acme_kit_test")):
        assert "acme_kit_test" in manager.metas
        raise RuntimeError("the vendor's assertion failed")
    assert "acme_kit_test" not in manager.metas
    with pytest.raises(TypeError):  # no meta: said at once, nothing registered
        registered(types.SimpleNamespace()).__enter__()


def test_the_sample_tenant_is_what_hooks_read() -> None:
    county = sample_tenant("acme", "蓝鲸县", settings={"sms_signature": "【蓝鲸县】"})
    assert (county.slug, county.name, county.display_name) == ("acme", "蓝鲸县", "蓝鲸县")
    assert county.kind.value == "county" and county.settings["sms_signature"] == "【蓝鲸县】"
    assert sample_tenant().id == sample_tenant().id  # the same every run


def test_undeclared_secrets_is_part_of_the_surface() -> None:
    class Config(msgspec.Struct):
        endpoint: str = ""
        api_token: str = ""

    assert undeclared_secrets(Config) == ["api_token"]

"""An installed plugin package that cannot be loaded — its module fails to import, it declares
no meta, it implements a hook nobody specified — is logged and listed as 无法加载, and every
other plugin, the CLI and the server run on without it (it used to take every command down)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.plugins import PluginManager, get_plugin_manager, set_plugin_manager
from web.cli import main

VENDORS = {
    "acme_missing": ("acme_missing_module", None),  # the entry point names no module there is
    "acme_raises": ("acme_raises", "raise RuntimeError('vendor bug at import')\n"),
    "acme_no_meta": ("acme_no_meta", "VALUE = 1\n"),
    "acme_bad_hook": (
        "acme_bad_hook",
        "import pluggy\n"
        "from core.plugins import PluginMeta\n"
        "meta = PluginMeta(name='acme_bad_hook', title='坏钩子', version='1.0.0')\n"
        "@pluggy.HookimplMarker('govhall')\n"
        "def no_such_hook(config):\n"
        "    return 1\n",
    ),
}


@pytest.fixture
def broken_vendors(tmp_path: Path) -> Iterator[None]:
    for name, (module, source) in VENDORS.items():
        info = tmp_path / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[govhall]\n{name} = {module}\n")
        if source is not None:
            (tmp_path / f"{module}.py").write_text(source)
    sys.path.insert(0, str(tmp_path))
    before = get_plugin_manager()
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path))
        for module, _ in VENDORS.values():
            sys.modules.pop(module, None)
        set_plugin_manager(before)


def test_broken_packages_are_listed_and_the_rest_load(broken_vendors: None, caplog) -> None:
    manager = PluginManager()
    assert set(manager.broken) == set(VENDORS)
    assert "vendor bug at import" in manager.broken["acme_raises"]
    assert "ModuleNotFoundError" in manager.broken["acme_missing"]
    assert {"sms_console", "bundles", "courier_post"} <= set(manager.metas)
    assert not set(VENDORS) & set(manager.metas)
    assert manager.installed_since_start() == []  # broken is not "installed since start"
    assert any("acme_raises" in r.getMessage() for r in caplog.records)

    set_plugin_manager(manager)
    listed = CliRunner().invoke(main, ["plugins", "list"])
    assert listed.exit_code == 0, listed.output
    assert "sms_console" in listed.output
    assert "acme_raises" in listed.output and "无法加载" in listed.output
    assert "local_suning" in listed.output and "仅适用于：suning" in listed.output

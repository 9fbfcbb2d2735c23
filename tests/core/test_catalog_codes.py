"""Item codes follow one documented rule (letters, digits, - _ .) at every door: a code with
a ``/`` or a space would make an item that search finds but whose page answers 404."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from core.catalog import create_item
from core.catalog.codes import check_code
from core.db import PLATFORM, Database
from core.errors import InvalidInput
from core.packs import PackError, apply_packs, load_packs
from core.plugins import PluginMeta, get_plugin_manager, hookimpl
from core.tenancy import scope_for
from tests.conftest import TENANTS
from tests.helpers import tenant

CONTENT = {"name": "测试事项", "category": "xzxk", "department": "HC-GAJ"}


@pytest.mark.parametrize("code", ["CL/P/E14", "HC SB01", "-HC", "事项01", "HC#1", "a" * 65])
def test_codes_outside_the_rule_are_refused_in_chinese(db: Database, code: str) -> None:
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s, pytest.raises(InvalidInput) as refused:
        create_item(s, hechi, code=code, content=CONTENT)
    assert refused.value.field == "code" and "编码" in refused.value.detail


def test_full_width_letters_typed_in_a_chinese_sheet_become_the_ascii_code() -> None:
    assert check_code(" ＨＣ－ＳＢ０１ ") == "HC-SB01"
    assert check_code("GX.sb_01-a") == "GX.sb_01-a"


def test_a_tenant_pack_with_a_bad_item_code_applies_nothing(
    empty_db: Database, tmp_path: Path
) -> None:
    packs = tmp_path / "packs"
    shutil.copytree(TENANTS, packs)
    toml = packs / "hechi" / "catalog.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('code = "HC-SB04"', 'code = "HC/SB04"', 1),
        encoding="utf-8",
    )
    with empty_db.session(scope=PLATFORM) as s, pytest.raises(PackError) as refused:
        apply_packs(s, load_packs(packs))
    assert "hechi/catalog.toml" in str(refused.value) and "HC/SB04" in str(refused.value)
    assert "只能由英文字母、数字和 - _ . 组成" in str(refused.value)


class _SlashItems:
    meta = PluginMeta(name="slash_items", version="0.1", title="斜杠事项")

    @hookimpl
    def register_items(self) -> list[dict[str, Any]]:
        return [{"code": "HC/LOCAL/1", **CONTENT}]


def test_a_plugins_item_with_a_bad_code_cannot_be_enabled(db: Database) -> None:
    manager = get_plugin_manager()
    manager.register(_SlashItems())
    try:
        hechi = tenant(db, "hechi")
        with db.session(scope=scope_for(hechi)) as s, pytest.raises(InvalidInput) as refused:
            manager.set_enabled(s, hechi, "slash_items", True)
        assert "插件 slash_items" in refused.value.detail and "HC/LOCAL/1" in refused.value.detail
    finally:
        manager.unregister("slash_items")

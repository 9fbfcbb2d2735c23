"""Everything a plugin needs comes from ``core.plugins``: the in-tree plugins and the sample
vendor's package import nothing else of govhall; the formats typed there are the ones the
core reads; the read-only lookup answers with frozen copies inside one tenant only."""

from __future__ import annotations

import ast
import dataclasses
import typing
import warnings
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import select

import core.plugins as public
from core.cases.bundles import Bundle, BundleItem
from core.catalog.content import Fee, ItemContent, Material, Responsibility
from core.db import Database
from core.forms.model import Condition, FormField, Option
from core.plugins import Lookup, get_plugin_manager, hookspecs, lookup_for, open_lookup, types
from core.tenancy import OrgUnit, scope_for
from core.workflow.definitions import ProcessDefinition, Step
from tests.cases.conftest import Desk
from tests.helpers import tenant

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SOURCES = sorted(
    [
        *(ROOT / "plugins").glob("*/**/*.py"),
        *(ROOT / "tests/sample_vendor").glob("govhall_*/**/*.py"),
    ]
)


def _foreign_imports(path: Path) -> list[str]:
    """Every import of govhall other than ``core.plugins`` itself, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in ("core", "web", "workers", "plugins") and name != "core.plugins":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return found


def test_the_walk_finds_every_in_tree_plugin_and_the_sample_vendor() -> None:
    packages = {p.parent.name for p in PLUGIN_SOURCES}
    shipped = {p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()}
    assert shipped <= packages and "govhall_sample_vendor" in packages
    assert len(shipped) >= 8


def test_plugins_import_only_core_plugins() -> None:
    """No ``core.notify``, ``core.config``, ``core.cases``, ``core.tenancy``, ``web`` or
    ``workers`` — not even inside a function — in a plugin a vendor could copy from."""
    assert [line for path in PLUGIN_SOURCES for line in _foreign_imports(path)] == []


def test_the_walk_would_catch_a_hidden_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "from core.plugins import hookimpl\n"
        "def f():\n    from core.tenancy import OrgUnit\n    import web.app\n"
        "from core.plugins.manager import TenantHooks\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(f"{__name__}.ROOT", tmp_path)
        found = sorted(line.split(": ")[1] for line in _foreign_imports(sneaky))
        assert found == ["core.plugins.manager", "core.tenancy", "web.app"]


def test_everything_named_public_is_there_and_the_sms_types_are_one() -> None:
    import core.notify

    for name in public.__all__:
        assert getattr(public, name) is not None, name
    for name in ("SmsMessage", "SendResult", "SmsReceipt", "SmsInbound", "SmsVendor"):
        assert getattr(core.notify, name) is getattr(public, name)  # one type, two names
    assert core.notify.pooled_client is public.pooled_client
    assert dict(public.SMS_TEMPLATES) == core.notify.DEFAULT_TEMPLATES


def test_the_sms_callbacks_are_first_result_hooks_like_the_other_callbacks() -> None:
    for hook in ("read_sms_receipts", "read_sms_inbound", "track_shipment", "confirm_payment"):
        spec = getattr(hookspecs, hook)
        assert (spec.__doc__ or "").startswith("First-result."), hook
        assert hook in hookspecs.FIRST_RESULT
        assert list(typing.get_type_hints(spec))[:5] == [
            "tenant",
            "config",
            *(["provider"] if hook == "confirm_payment" else []),
            *(["carrier"] if hook == "track_shipment" else []),
            *(["vendor"] if "sms" in hook else []),
            "headers",
            "body",
        ]
    marked = {
        name
        for name in dir(hookspecs)
        if hasattr(getattr(hookspecs, name), "govhall_spec")
        and (getattr(hookspecs, name).__doc__ or "").startswith("First-result.")
    }
    assert marked == hookspecs.FIRST_RESULT


def _keys(typed: type) -> tuple[set[str], set[str]]:
    hints = typing.get_type_hints(typed)
    required = set(getattr(typed, "__required_keys__", hints))
    return set(hints), required


@pytest.mark.parametrize(
    ("typed", "struct", "extra"),
    [
        (types.ItemDefinition, ItemContent, {"code"}),
        (types.MaterialDefinition, Material, set()),
        (types.FeeDefinition, Fee, set()),
        (types.ResponsibilityDefinition, Responsibility, set()),
        (types.FormFieldDefinition, FormField, set()),
        (types.OptionDefinition, Option, set()),
        (types.ConditionDefinition, Condition, set()),
        (types.ProcessDefinition, ProcessDefinition, set()),
        (types.StepDefinition, Step, set()),
        (types.BundleDefinition, Bundle, set()),
        (types.BundleItemDefinition, BundleItem, set()),
    ],
)
def test_the_typed_formats_are_what_the_core_reads(
    typed: type, struct: type, extra: set[str]
) -> None:
    """Every key the core's own structure reads, and no other; required exactly where the
    core has no default (an item's ``code`` is the catalog's key, beside its content)."""
    fields = msgspec.structs.fields(struct)
    keys, required = _keys(typed)
    assert keys == {f.encode_name for f in fields} | extra
    assert required == {f.encode_name for f in fields if f.required} | extra


def test_the_in_tree_definitions_read_as_the_core_reads_them() -> None:
    from plugins import bundles, local_suning

    for bundle in bundles.BUNDLES.values():
        msgspec.convert(bundle, Bundle)
    for item in local_suning.ITEMS:
        msgspec.convert({k: v for k, v in item.items() if k != "code"}, ItemContent)
    msgspec.convert(local_suning.PROCESS, ProcessDefinition)


# -- the read-only lookup ----------------------------------------------------------------------


def test_a_lookup_answers_with_frozen_copies_of_one_tenant(db: Database) -> None:
    hechi, bozhou = tenant(db, "hechi"), tenant(db, "bozhou")
    with db.session(scope=scope_for(hechi)) as s:
        lookup = Lookup(s, hechi)
        centre = lookup.org_unit("HC-ZWZX")
        assert centre is not None and centre.name == "河池市政务服务中心" and centre.open
        assert centre.kind == "service_centre"
        assert {u.code for u in lookup.org_units()} >= {"HC-ZWZX", "HC-RSJ"}
        with pytest.raises(dataclasses.FrozenInstanceError):
            centre.name = "改名"  # type: ignore[misc]
        item = lookup.item("HC-SB01")
        assert item is not None and item.live and item.status == "active"
        assert item.department == "HC-RSJ" and item.name == item.content["name"]
        with pytest.raises(TypeError):
            item.content["name"] = "改名"  # type: ignore[index]
        assert lookup.item("NO-SUCH") is None and lookup.org_unit("NO-SUCH") is None
        # another county's codes are not seen from here
        assert lookup.item("BZ-SB01") is None and lookup.org_unit("BZ-ZWZX") is None
    with db.session(scope=scope_for(bozhou)) as s:
        assert Lookup(s, bozhou).item("BZ-SB01") is not None


def test_a_lookup_reads_a_case_without_its_applicant(db: Database) -> None:
    desk = Desk(db, "hechi")
    number = desk.apply(desk.citizen("13800000001"), "HC-SB04")
    with desk.session() as s:
        case = Lookup(s, desk.tenant).case(number)
        assert case is not None and case.state == "submitted" and case.item == "HC-SB04"
        assert case.submitted_at is not None and case.delivery == "pickup"
        assert not {"applicant", "phone", "form", "applicant_name"} & {
            f.name for f in dataclasses.fields(case)
        }
        assert Lookup(s, desk.tenant).case("HC-NO-SUCH") is None
    with open_lookup(desk.tenant) as lookup:  # a hook's own: sees what is committed
        found = lookup.case(number)
        assert found is not None and found.number == number


def test_a_lookup_stands_in_for_the_session_a_0_1_validate_was_given(db: Database) -> None:
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        assert lookup_for(s, hechi).org_unit("HC-ZWZX") is not None
        lookup = Lookup(s, hechi)
        assert lookup_for(lookup, hechi) is lookup
        with pytest.warns(DeprecationWarning, match="deprecated"):
            codes = set(lookup.scalars(select(OrgUnit.code)))
        assert "HC-ZWZX" in codes
        with pytest.raises(AttributeError):
            lookup.add  # noqa: B018 - nothing that writes is passed through


def test_the_shipped_validators_ask_the_lookup(db: Database) -> None:
    """dept_webhooks names an unknown department, bundles an item the county does not offer
    live — read through the lookup, with no query of their own."""
    manager = get_plugin_manager()
    hechi, suning = tenant(db, "hechi"), tenant(db, "suning")
    departments = manager.meta("dept_webhooks")
    bundles = manager.meta("bundles")
    assert departments.validate is not None and bundles.validate is not None
    with db.session(scope=scope_for(hechi)) as s, warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no session query behind our back
        lookup = Lookup(s, hechi)
        config = departments.parse_config(
            {"departments": [{"code": "HC-XX", "url": "https://x.example", "secret": "s" * 16}]}
        )
        assert departments.validate(lookup, hechi, config) == ["没有编码为 HC-XX 的部门"]
        offered = bundles.validate(lookup, hechi, bundles.parse_config({"offer": ["SN-4Z1Z"]}))
        assert offered == [
            "四证一章联办 所含事项未在本地区上线：SN-LB01、SN-LB02、SN-LB03、SN-LB04、SN-LB05"
        ]
    with db.session(scope=scope_for(suning)) as s, warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        config = bundles.parse_config({"offer": ["SN-4Z1Z"]})
        assert bundles.validate(Lookup(s, suning), suning, config) == []


# -- secrets and the guide ---------------------------------------------------------------------


def test_every_shipped_plugin_declares_its_secrets() -> None:
    """No shipped plugin, nor the sample vendor, relies on a field's name to hide a secret."""
    import tomllib

    from core.plugins.secrets import undeclared_secrets

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = set(project["project"]["entry-points"]["govhall"]) | {"sample_vendor"}
    metas = get_plugin_manager().metas
    assert shipped <= set(metas)
    assert {name: undeclared_secrets(metas[name].config) for name in shipped} == {
        name: [] for name in shipped
    }


class _Department(msgspec.Struct):
    code: str
    token: str = ""
    secret: public.Secret = ""


class _OldConfig(msgspec.Struct):
    password: str = ""
    api_key: str = ""  # not secret at all unless declared
    departments: list[_Department] = []


def test_a_secret_known_only_by_its_name_is_named_for_declaring() -> None:
    from core.plugins.secrets import undeclared_secrets

    assert undeclared_secrets(_OldConfig) == ["departments[].token", "password"]
    assert undeclared_secrets(None) == []


@pytest.mark.parametrize("page", ["plugins.md", "tenant-packs.md"])
def test_every_code_block_of_the_guides_is_valid(page: str) -> None:
    """A vendor copies from these pages: each Python block parses, each TOML block loads."""
    import re
    import tomllib

    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)
    assert blocks
    for language, code in blocks:
        if language == "python":
            ast.parse(code)
        elif language == "toml":
            tomllib.loads(code)

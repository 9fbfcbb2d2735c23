"""The demo catalogs carry application forms that look real: every form in the packs and in
the plugins' own items parses, is labelled in Chinese and English, and takes plausible values
(generated from the field types: check digits right, a county of the tenant's own) down every
branch of its conditions; each sub-item of every bundle has a form, the things they share asked
in the same words under the same key, so the bundle's one form asks for them once; a county
inherits its province's form and may add to it."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

import msgspec
import pytest

from core.catalog import get_item_by_code
from core.catalog.content import CATEGORIES, parse_content
from core.db import Database
from core.forms import FormField, fill, json_schema, parse_form
from core.forms.model import override_problems
from core.packs import load_packs
from core.plugins import get_plugin_manager
from core.tenancy import scope_for
from plugins.bundles import BUNDLES
from tests.conftest import TENANTS
from tests.form_values import example, values_for
from tests.helpers import tenant

#: a county of each tenant's own, for addresses and ID numbers
COUNTY = {
    "guangxi": "451202",
    "hechi": "451202",
    "anhui": "341602",
    "bozhou": "341602",
    "hunan": "430821",
    "cili": "430821",
    "hebei": "130926",
    "suning": "130926",
    "guangdong": "440106",
    "guangzhou": "440106",
}


@dataclass
class Demo:
    tenant: str
    code: str
    content: dict[str, Any]
    departments: set[str]
    standard: dict[str, Any] | None = None  # an adopted item's province content
    fields: list[FormField] = field(default_factory=list)

    @property
    def values(self) -> list[FormField]:
        return [f for f in self.fields if f.holds_value]


def _demo_items() -> list[Demo]:
    """Every item of the demo packs (adopted ones with their province's content overridden)
    and of the plugins' ``register_items``, each in the tenant whose department it names."""
    packs = load_packs(TENANTS)
    units = {p.tenant.tenant.slug: {u.code for u in p.org.units} for p in packs}
    out: list[Demo] = []
    standard: dict[str, dict[str, Any]] = {}
    for pack in packs:
        slug = pack.tenant.tenant.slug
        for raw in pack.catalog.items:
            entry = dict(raw)
            code = entry.pop("code")
            standard[code] = entry
            out.append(Demo(slug, code, entry, units[slug]))
        for adopt in pack.catalog.adopt:
            province = standard[adopt.standard]
            merged = {**province, **adopt.overrides}
            out.append(Demo(slug, adopt.code or adopt.standard, merged, units[slug], province))
    hooks = get_plugin_manager().pm.hook.register_items.get_hookimpls()
    for impl in hooks:
        args = {"tenant": None, "config": None}
        items = cast("list[dict[str, Any]]", impl.function(*[args[a] for a in impl.argnames]))
        for raw in items or []:
            entry = dict(raw)
            code = entry.pop("code")
            slug = next(s for s, codes in units.items() if entry["department"] in codes)
            out.append(Demo(slug, code, entry, units[slug]))
    for demo in out:
        demo.fields = parse_form(demo.content.get("form") or [])
    return out


DEMOS = _demo_items()
WITH_FORMS = [d for d in DEMOS if d.fields]
BY_CODE = {d.code: d for d in DEMOS}


def _walk(fields: list[FormField]) -> list[FormField]:
    return [x for f in fields for x in (f, *_walk(f.columns))]


def test_enough_demo_items_in_enough_tenants_have_forms_that_look_real() -> None:
    assert len(WITH_FORMS) >= 14
    assert len({d.tenant for d in WITH_FORMS}) >= 4
    names = " ".join(d.content["name"] for d in WITH_FORMS)
    for wanted in (
        "户口迁移",
        "最低生活保障",
        "社会保险登记",
        "企业设立登记",
        "建设工程规划许可",
        "危房改造",
        "不动产",
        "就业创业证",
        "失业保险金",
        "居住证",
        "食品经营许可",
    ):
        assert wanted in names, wanted
    for demo in WITH_FORMS:
        assert len(demo.values) >= 4, demo.code
        for f in _walk(demo.fields):
            assert f.label_en, (demo.code, f.key)
            assert all(o.label_en for o in f.options), (demo.code, f.key)
            if f.pattern and f.placeholder:  # an example shown must pass the field's own rule
                assert fill([f], {f.key: example(f)}, complete=True).problems == {}, f.key


@pytest.mark.parametrize("demo", WITH_FORMS, ids=lambda d: d.code)
def test_each_form_is_valid_item_content(demo: Demo) -> None:
    """As the pack loader and the catalog check it: the form and the e-license particulars
    it fills; a county's form keeps every field of its province's; other front ends get it as
    JSON Schema."""
    categories = {c for c, _, _ in CATEGORIES}
    content = parse_content(demo.content, categories=categories, departments=demo.departments)
    keys = {f.key for f in content.form}
    assert set(content.license_fields.values()) <= keys
    schema = json.loads(json.dumps(json_schema(content.form, title=content.name)))
    assert set(schema["properties"]) == {f.key for f in content.form if f.holds_value}
    if demo.standard is not None and "form" in demo.content:
        province = parse_form(demo.standard.get("form") or [])
        assert override_problems(province, content.form) == []


def _branches(fields: list[FormField]) -> list[tuple[str, Any]]:
    """Each value a condition may look at: every option of a field another one depends on."""
    by_key = {f.key: f for f in fields}
    watched = {c.field for f in fields for c in f.show_when}
    out: list[tuple[str, Any]] = []
    for key in sorted(watched):
        f = by_key[key]
        if f.type == "yesno":
            out += [(key, True), (key, False)]
        elif f.type == "multichoice":
            out += [(key, [o.value]) for o in f.options]
        else:
            out += [(key, o.value) for o in f.options]
    return out


def _satisfy(fields: list[FormField], values: dict[str, Any], target: FormField) -> None:
    """Set the fields ``target`` depends on (and what they depend on) so that it is shown."""
    by_key = {f.key: f for f in fields}
    for c in target.show_when:
        _satisfy(fields, values, by_key[c.field])
        wanted = c.any_of[0] if c.any_of else c.equals
        if wanted is not None:
            multi = by_key[c.field].type == "multichoice"
            values[c.field] = [wanted] if multi else wanted


def _check(fields: list[FormField], county: str) -> None:
    base = values_for(fields, county)
    filled = fill(fields, base, complete=True)
    assert filled.problems == {}
    for key, value in _branches(fields):
        branch = fill(fields, {**base, key: value}, complete=True)
        assert branch.problems == {}, (key, value)
    for f in fields:  # a required field is asked for exactly when it is shown
        if not (f.required and f.holds_value and f.show_when):
            continue
        values = dict(base)
        _satisfy(fields, values, f)
        values.pop(f.key)
        assert f"form.{f.key}" in fill(fields, values, complete=True).problems, f.key
    for table in (f for f in fields if f.type == "table"):
        if any(c.show_when for c in table.columns):
            _check(table.columns, county)


@pytest.mark.parametrize("demo", WITH_FORMS, ids=lambda d: d.code)
def test_each_form_takes_plausible_values_down_every_branch(demo: Demo) -> None:
    _check(demo.fields, COUNTY[demo.tenant])


def test_every_bundle_sub_item_has_a_form_sharing_the_same_keys() -> None:
    """The one combined form (一表通) asks once for what its items share: the applicant, the
    enterprise, the premises or the project — same key, same field, in every item."""
    for bundle in BUNDLES.values():
        subs = [BY_CODE[entry["item"]] for entry in bundle["items"]]
        seen: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for sub in subs:
            assert len(sub.values) >= 4, (bundle["code"], sub.code)
            keys = {f.key for f in sub.values}
            assert {"applicant_name", "contact_phone", "enterprise_name"} <= keys, sub.code
            for f in sub.fields:
                seen[f.key].append((sub.code, msgspec.to_builtins(f)))
        for key, defs in seen.items():
            first = defs[0][1]
            assert all(d == first for _, d in defs), (bundle["code"], key, [c for c, _ in defs])
        shared = [k for k, defs in seen.items() if len(defs) == len(subs)]
        assert len(shared) >= 5, (bundle["code"], shared)


def test_the_food_business_license_takes_its_particulars_from_the_form() -> None:
    content = BY_CODE["HC-SC03"].content
    assert content["result_license"] == "food_business_license"
    mapping = content["license_fields"]
    assert mapping["holder"] == "enterprise_name"
    assert {"经营场所": "premises", "主体业态": "business_form"}.items() <= mapping.items()


def test_a_county_inherits_its_provinces_form_and_may_add_to_it(db: Database) -> None:
    province = {f.key for f in BY_CODE["GX-SB01"].fields}
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        inherited = parse_form(get_item_by_code(s, hechi, "HC-SB01").effective["form"])
        added = parse_form(get_item_by_code(s, hechi, "HC-ZR02").effective["form"])
    assert {f.key for f in inherited} == province
    keys = [f.key for f in added]
    assert set(keys) > {f.key for f in BY_CODE["GX-ZR02"].fields}
    assert "relocation" in keys

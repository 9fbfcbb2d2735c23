"""bundles: the joint-approval bundles (联审联办) counties run, each one combined form opening a
sub-case per department item under one overall limit and one fee:

- ``SN-4Z1Z`` 四证一章联办 (Suning): business licence, organisation code, national and local
  tax registration, and the company seal — five departments, one visit;
- ``CL-TZBJ`` 投资报建联合审批 (Cili): project filing, land-use and construction planning
  permits, construction permit and environmental approval in parallel — 60 working days
  overall, down from more than 180 one after another;
- ``CL-QYKB`` 企业开办一表通 (Cili): registration, seal, tax and invoices, social insurance
  from one form.

A county enables the plugin and lists the bundles it offers (``offer``); a bundle naming an
item the county's catalog does not offer live cannot be enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from core.plugins import (
    BundleDefinition,
    ItemView,
    Lookup,
    PluginMeta,
    Tenant,
    hookimpl,
    lookup_for,
)

#: asked once, at the top of the one form, for every department of a company's opening
#: (一表通); each sub-item's own fields follow under its name. The demo packs give these
#: keys the same definition in every sub-item's form.
COMPANY_SHARED = [
    "enterprise_name",
    "credit_code",
    "premises",
    "legal_rep_name",
    "legal_rep_id_number",
    "legal_rep_phone",
    "applicant_name",
    "applicant_id_number",
    "contact_phone",
]
#: asked once for every approval of a construction project (投资报建)
PROJECT_SHARED = [
    "project_name",
    "project_code",
    "project_site",
    "enterprise_name",
    "credit_code",
    "legal_rep_name",
    "applicant_name",
    "applicant_id_number",
    "contact_phone",
]

BUNDLES: dict[str, BundleDefinition] = {
    "SN-4Z1Z": {
        "code": "SN-4Z1Z",
        "name": "四证一章联办",
        "description": "营业执照、组织机构代码证、国税和地税税务登记证、公章刻制，"
        "一次申请、并联办理。",
        "overall_days": 5,
        "department": "SN-ZWZX",
        "items": [
            {"item": "SN-LB01"},
            {"item": "SN-LB02"},
            {"item": "SN-LB03"},
            {"item": "SN-LB04"},
            {"item": "SN-LB05"},
        ],
        "shared": COMPANY_SHARED,
    },
    "CL-TZBJ": {
        "code": "CL-TZBJ",
        "name": "投资报建联合审批",
        "description": "县本级审批权限内的新建、改建、扩建工程：联合受理、并联审批、联合收费，"
        "总时限 60 个工作日（原逐项办理 180 余天）。",
        "overall_days": 60,
        "department": "CL-ZWZX",
        "items": [
            {"item": "CL-TZ01"},
            {"item": "CL-TZ02"},
            {"item": "CL-TZ03"},
            {"item": "CL-TZ04"},
            {"item": "CL-TZ05", "required": False},
        ],
        "shared": PROJECT_SHARED,
    },
    "CL-QYKB": {
        "code": "CL-QYKB",
        "name": "企业开办一表通",
        "description": "填写一张表，同时办理企业设立登记、公章刻制、税务登记及发票申领、"
        "社会保险登记。",
        "overall_days": 3,
        "department": "CL-ZWZX",
        "items": [
            {"item": "CL-KB01"},
            {"item": "CL-KB02"},
            {"item": "CL-KB03"},
            {"item": "CL-KB04"},
        ],
        "shared": COMPANY_SHARED,
    },
}


class Config(msgspec.Struct, kw_only=True):
    #: the bundle codes this county offers, e.g. ["SN-4Z1Z"]
    offer: list[str] = []


def _offered(config: Config | None) -> list[BundleDefinition]:
    return [BUNDLES[code] for code in (config.offer if config else []) if code in BUNDLES]


def _clashes(bundle: BundleDefinition, items: dict[str, ItemView]) -> list[str]:
    """Keys the one form would ask once that two of its parts define with different types
    (the bundle's own fields first, then each item's, under the bundle's ``keys``)."""
    first: dict[str, Mapping[str, Any]] = {}
    problems = []
    parts: list[tuple[str, dict[str, str], tuple[Mapping[str, Any], ...]]] = [
        ("", {}, tuple(bundle.get("form") or []))
    ]
    for entry in bundle["items"]:
        item = items[entry["item"]]
        parts.append((item.name, bundle.get("keys", {}).get(item.code, {}), item.form))
    for name, mapping, fields in parts:
        for field in fields:
            kind = str(field.get("type") or "text")
            if kind == "heading":
                continue
            key = mapping.get(str(field["key"]), str(field["key"]))
            kept = first.setdefault(key, field)
            kept_kind = str(kept.get("type") or "text")
            if kept is not field and kept_kind != kind:
                problems.append(
                    f"{name}的「{field.get('label')}」（{kind}）与一表通中的「{key}」"
                    f"（{kept_kind}）类型不同，不能合并填写"
                )
    return problems


def _validate(lookup: Lookup, tenant: Tenant, config: Config | None) -> list[str]:
    lookup = lookup_for(lookup, tenant)
    problems = [
        f"没有名为 {c} 的联办事项" for c in (config.offer if config else []) if c not in BUNDLES
    ]
    for bundle in _offered(config):
        codes = [entry["item"] for entry in bundle["items"]]
        found = {code: lookup.item(code) for code in codes}
        live = {code: item for code, item in found.items() if item is not None and item.live}
        missing = [code for code in codes if code not in live]
        if missing:
            problems.append(f"{bundle['name']} 所含事项未在本地区上线：{'、'.join(missing)}")
        else:
            problems += _clashes(bundle, live)
    return problems


meta = PluginMeta(
    name="bundles",
    version="1.0.0",
    title="联审联办（一表通）",
    description="联审联办（一表通）：一张申请表，各部门分别办理，统一时限和收费。",
    core_compat=">=0.1,<1",
    config=Config,
    validate=_validate,
    tags=("bundles",),
)


@hookimpl
def register_bundles(config: Config | None) -> list[BundleDefinition]:
    return _offered(config)

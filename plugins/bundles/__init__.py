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

from typing import Any

import msgspec

from core.plugins import PluginMeta, hookimpl

#: entered once for every department of a company's opening (一表通); each sub-item's form
#: asks its own fields after these, and a key it shares with them is not asked again
COMPANY_FORM: list[dict[str, Any]] = [
    {"key": "enterprise", "type": "heading", "label": "企业基本信息"},
    {
        "key": "company_name",
        "label": "企业名称",
        "label_en": "Company name",
        "required": True,
        "max_length": 60,
        "help": "与名称自主申报（预先核准）结果一致",
        "prefill": "enterprise.name",
    },
    {
        "key": "company_type",
        "type": "choice",
        "label": "企业类型",
        "required": True,
        "options": [
            {"value": "llc", "label": "有限责任公司"},
            {"value": "sole", "label": "个人独资企业"},
            {"value": "partnership", "label": "合伙企业"},
        ],
    },
    {
        "key": "registered_capital",
        "type": "money",
        "label": "注册资本（万元）",
        "required": True,
        "min": "0.01",
    },
    {"key": "address", "type": "address", "label": "住所", "required": True},
    {
        "key": "business_scope",
        "type": "textarea",
        "label": "经营范围",
        "required": True,
        "max_length": 1000,
    },
    {"key": "legal_rep", "type": "heading", "label": "法定代表人及联系人"},
    {"key": "legal_person", "label": "法定代表人姓名", "required": True, "max_length": 30},
    {
        "key": "legal_person_id",
        "type": "id_number",
        "label": "法定代表人身份证号",
        "required": True,
        "personal": True,
    },
    {"key": "contact_name", "label": "联系人", "required": True, "prefill": "person.name"},
    {
        "key": "contact_phone",
        "type": "mobile",
        "label": "联系电话",
        "required": True,
        "personal": True,
        "prefill": "person.phone",
    },
]
#: entered once for every approval of a construction project (投资报建)
PROJECT_FORM: list[dict[str, Any]] = [
    {"key": "project", "type": "heading", "label": "项目基本信息"},
    {"key": "project_name", "label": "项目名称", "required": True, "max_length": 80},
    {
        "key": "builder",
        "label": "建设单位",
        "required": True,
        "prefill": "enterprise.name",
    },
    {
        "key": "credit_code",
        "type": "credit_code",
        "label": "建设单位统一社会信用代码",
        "required": True,
        "prefill": "enterprise.credit_code",
    },
    {"key": "site", "type": "address", "label": "建设地点", "required": True},
    {
        "key": "investment",
        "type": "money",
        "label": "总投资（万元）",
        "required": True,
        "min": "1",
    },
    {"key": "floor_area", "type": "integer", "label": "总建筑面积（平方米）", "min": "1"},
    {"key": "contact_name", "label": "项目联系人", "required": True, "prefill": "person.name"},
    {
        "key": "contact_phone",
        "type": "mobile",
        "label": "联系电话",
        "required": True,
        "personal": True,
        "prefill": "person.phone",
    },
]

BUNDLES: dict[str, dict[str, Any]] = {
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
        "form": COMPANY_FORM,
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
        "form": PROJECT_FORM,
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
        "form": COMPANY_FORM,
    },
}


class Config(msgspec.Struct, kw_only=True):
    #: the bundle codes this county offers, e.g. ["SN-4Z1Z"]
    offer: list[str] = []


def _offered(config: Config | None) -> list[dict[str, Any]]:
    return [BUNDLES[code] for code in (config.offer if config else []) if code in BUNDLES]


def _validate(session: Any, tenant: Any, config: Config | None) -> list[str]:
    from core.cases.bundles import combined_form, missing_items, parse_bundle

    problems = [
        f"没有名为 {c} 的联办事项" for c in (config.offer if config else []) if c not in BUNDLES
    ]
    for raw in _offered(config):
        bundle = parse_bundle(raw)
        missing = missing_items(session, tenant, bundle)
        if missing:
            problems.append(f"{bundle.name} 所含事项未在本地区上线：{'、'.join(missing)}")
        else:
            combined_form(session, tenant, bundle, problems)
    return problems


meta = PluginMeta(
    name="bundles",
    version="1.0.0",
    title="联审联办（一表通）",
    description="Joint-approval bundles: one form, a sub-case per department, one limit and fee.",
    core_compat=">=0.1,<1",
    config=Config,
    validate=_validate,
    tags=("bundles",),
)


@hookimpl
def register_bundles(config: Config | None) -> list[dict[str, Any]]:
    return _offered(config)

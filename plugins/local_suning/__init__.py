"""local_suning: Suning's own procedures (肃宁县三级网上审批便民服务平台) — village-level items
that a village agent (代办员) takes at the village station and that travel up to the township
and the county, their three-level process, and the county's form rules for them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from core.plugins import PluginMeta, hookimpl

PROCESS = {
    "code": "sn_three_level",
    "name": "肃宁三级联办（村代办、乡初审、县审批）",
    "start": "collect",
    "steps": [
        {
            "code": "collect",
            "name": "村级代办",
            "role": "agent",
            "level": "village",
            "days": 1,
            "actions": ["forward", "request_correction"],
            "next": ["township"],
        },
        {
            "code": "township",
            "name": "乡镇初审",
            "role": "window_clerk",
            "level": "township",
            "days": 2,
            "actions": ["forward", "request_correction", "refuse"],
            "next": ["accept"],
        },
        {
            "code": "accept",
            "name": "县级受理",
            "role": "window_clerk",
            "days": 1,
            "actions": ["accept", "request_correction", "refuse"],
            "next": ["approve"],
        },
        {
            "code": "approve",
            "name": "县级审批",
            "role": "approver",
            "days": 5,
            "actions": ["approve", "deny"],
        },
    ],
}


def _item(
    code: str, name: str, department: str, body: str, materials: list[str], **extra: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "kind": "public_service",
        "category": "ggfw",
        "department": department,
        "implementing_body": body,
        "legal_basis": extra.pop("basis", ["《社会救助暂行办法》"]),
        "conditions": extra.pop("conditions", "申请人符合条件，材料齐全。"),
        "legal_days": 20,
        "promised_days": 9,
        "levels": ["village", "township", "county"],
        "channels": ["agent", "counter", "online"],
        "delivery": ["pickup"],
        "process": "sn_three_level",
        "keywords": extra.pop("keywords", []),
        "contacts": f"{body} 窗口咨询电话 12345；村便民服务站代办员",
        "office_hours": "周一至周五 8:30-12:00, 14:30-17:30（法定节假日除外）",
        "materials": [
            {"name": m, "required": "required", "form": "original", "copies": 1} for m in materials
        ],
        **extra,
    }


ITEMS = [
    _item(
        "SN-CJ01",
        "农村居民最低生活保障申请（村级代办）",
        "SN-MZJ",
        "县民政局",
        ["居民身份证", "户口簿", "家庭收入情况说明"],
        keywords=["低保", "代办", "村级"],
    ),
    _item(
        "SN-CJ02",
        "农村危房改造补助申请（村级代办）",
        "SN-ZJJ",
        "县住房和城乡建设局",
        ["居民身份证", "房屋现状照片"],
        basis=["《农村危房改造补助资金管理办法》"],
        keywords=["危房", "代办", "村级"],
    ),
]


class Config(msgspec.Struct, kw_only=True):
    #: a household above this annual income per head (yuan) cannot apply for 低保
    income_limit: str = "4200"


meta = PluginMeta(
    name="local_suning",
    version="1.0.0",
    title="肃宁县三级代办事项",
    description="Village-level items taken by agents and forwarded to township and county.",
    core_compat=">=0.1,<1",
    config=Config,
    tags=("local",),
)


@hookimpl
def register_items() -> list[dict[str, Any]]:
    return [dict(i, materials=[dict(m) for m in i["materials"]]) for i in ITEMS]


@hookimpl
def register_processes() -> list[dict[str, Any]]:
    return [PROCESS]


@hookimpl
def validate_form(config: Config | None, item: str, form: dict[str, Any]) -> list[dict[str, str]]:
    if item != "SN-CJ01":
        return []
    config = config or Config()
    problems = []
    if not str(form.get("village") or "").strip():
        problems.append({"field": "village", "message": "请填写所在村"})
    size = str(form.get("household_size") or "").strip()
    if not size.isdigit() or not 1 <= int(size) <= 20:
        problems.append({"field": "household_size", "message": "家庭人口应为 1 到 20 之间的整数"})
    try:
        income = Decimal(str(form.get("income_per_head") or ""))
    except InvalidOperation:
        problems.append({"field": "income_per_head", "message": "请填写家庭年人均收入（元）"})
    else:
        if income < 0:
            problems.append({"field": "income_per_head", "message": "收入不能为负数"})
        elif income > Decimal(config.income_limit):
            problems.append(
                {
                    "field": "income_per_head",
                    "message": f"家庭年人均收入高于本县低保标准（{config.income_limit} 元），"
                    "不符合申请条件",
                }
            )
    return problems

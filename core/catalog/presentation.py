"""Labels and derived views of item content for pages, PDFs and exports (Chinese first)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = [
    "FIELD_LABELS",
    "LABELS",
    "STEP_ROLE_LABELS",
    "applies_online",
    "fee_total",
    "material_source",
    "visits_needed",
]

LABELS: dict[str, dict[str, str]] = {
    "levels": {
        "county": "县级政务服务中心",
        "township": "乡镇便民服务中心",
        "village": "村便民服务站",
    },
    "channels": {"online": "网上申报", "counter": "窗口办理", "agent": "代办"},
    "delivery": {"pickup": "窗口领取", "courier": "快递送达"},
    "audience": {"person": "个人", "enterprise": "法人"},
    "required": {"required": "必要", "conditional": "视情况提交"},
    "form": {
        "original": "原件",
        "copy": "复印件",
        "original_and_copy": "原件及复印件",
        "electronic": "电子材料",
    },
    "kind": {"power": "行政权力", "public_service": "公共服务"},
    "status": {
        "active": "在用",
        "cancelled": "已取消",
        "delegated": "已下放",
        "transferred": "已转移",
        "merged": "已整合",
    },
    "action": {
        "publish": "发布",
        "cancel": "取消",
        "delegate": "下放",
        "transfer": "转移",
        "merge": "整合",
        "restore": "恢复",
    },
    "duty": {
        "main_duty": "主要职责",
        "boundary": "职责边界",
        "supervision_rule": "事中事后监管制度",
    },
}

FIELD_LABELS = {
    "name": "事项名称",
    "kind": "事项类型",
    "category": "事项类别",
    "department": "实施部门",
    "implementing_body": "承办机构",
    "legal_basis": "设定依据",
    "conditions": "办理条件",
    "materials": "申报材料",
    "fees": "收费标准",
    "legal_days": "法定时限",
    "promised_days": "承诺时限",
    "levels": "受理层级",
    "channels": "办理渠道",
    "delivery": "送达方式",
    "audience": "服务对象",
    "result_license": "办理结果",
    "process": "办理流程",
    "contacts": "咨询方式",
    "office_hours": "办公时间",
    "keywords": "关键词",
    "responsibilities": "责任清单",
    "form": "申请表",
    "license_fields": "证照内容",
}

STEP_ROLE_LABELS = {
    "applicant": "申请人",
    "window_clerk": "窗口受理",
    "reviewer": "审核",
    "approver": "审批",
    "issuer": "发证",
    "agent": "村级代办",
    "supervisor": "监察",
}


def fee_total(content: dict[str, Any]) -> Decimal:
    return sum((Decimal(f["amount"]) for f in content.get("fees", [])), Decimal(0))


def applies_online(content: dict[str, Any]) -> bool:
    """Whether a citizen may apply on the portal (网上申办): the rule the case service
    enforces, asked before the button is offered."""
    return "online" in content.get("channels", ["online"])


def material_source(material: dict[str, Any]) -> str:
    """Where a material comes from, in plain words (来源)."""
    if material.get("license_type"):
        # only an e-license the applicant holds stands in (core.cases.materials): say so
        return "持有电子证照的可直接调用，否则请上传"
    if material.get("template_key"):
        return "下载表格填写"
    return "申请人自备"


def visits_needed(content: dict[str, Any]) -> int:
    """到现场次数: none when both applying and receiving the result need no visit; one when
    only one of them does (or the counter decides at once); two otherwise."""
    online = applies_online(content)
    courier = "courier" in content.get("delivery", ["pickup"])
    if online:
        return 0 if courier else 1
    return 1 if courier or content.get("process") == "instant" else 2

"""Delivery by courier (快递送达) through the ``create_shipment`` hook of the tenant's plugins."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.cases.models import Case
from core.errors import Conflict
from core.tenancy import Tenant

__all__ = ["ship"]


def ship(session: Session, tenant: Tenant, case: Case) -> dict[str, Any]:
    """Book the courier; the first plugin that takes the shipment answers with its carrier
    and tracking number."""
    from core.plugins import get_plugin_manager

    shipment = {
        "reference": case.number,
        "recipient": case.applicant_name,
        "phone": case.applicant_phone,
        "address": case.delivery_address or "",
        "contents": f"{case.item_name} 办理结果",
        "sender": tenant.display_name,
    }
    hooks = get_plugin_manager().for_tenant(session, tenant)
    for answer in hooks.call("create_shipment", shipment=shipment):
        if answer and answer.get("tracking_number"):
            return {
                "carrier": str(answer.get("carrier") or ""),
                "tracking_number": str(answer["tracking_number"]),
            }
    raise Conflict("本地区未启用快递寄递服务，请改为窗口领取", field="delivery")

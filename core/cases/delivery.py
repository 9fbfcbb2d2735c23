"""Delivery by courier (快递送达) through the tenant's courier plugins: the waybill is booked
(``create_shipment``) with the result documents listed, the tracking number recorded, the
carrier's tracking callbacks (``track_shipment``) shown to the applicant, and the case marked
delivered when the carrier reports it signed for. Pickup at the window (窗口领取) needs no
plugin and is the default."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from core.cases import clock
from core.cases.messages import notify
from core.cases.models import Case, CaseState, License, Notice
from core.cases.trail import Actor, append_event
from core.errors import Conflict, InvalidInput, NotFound
from core.plugins import get_plugin_manager
from core.tenancy import Tenant

__all__ = ["STATUS_LABELS", "apply_tracking", "check_address", "ship"]

#: what a carrier may report, and how the applicant reads it
STATUS_LABELS = {
    "collected": "已揽收",
    "in_transit": "运输中",
    "out_for_delivery": "派送中",
    "signed": "已签收",
    "failed": "投递失败",
}
_PLACE = re.compile(r"[省市区县旗镇乡村街路道巷弄号栋楼室组]")


def check_address(address: str | None) -> str:
    """A courier address must say where: at least eight characters naming a place (省市区县,
    镇乡村, 街路号 …). Returns it tidied; a 422 on ``address`` otherwise."""
    value = re.sub(r"\s+", " ", (address or "").strip())
    if len(value) < 8 or len(_PLACE.findall(value)) < 2:
        raise InvalidInput(
            "请填写完整的收件地址（省、市、县区、乡镇街道及门牌号）", field="address"
        )
    if len(value) > 200:
        raise InvalidInput("收件地址过长", field="address")
    return value


def _documents(session: Session, case: Case) -> list[dict[str, str]]:
    notices = session.scalars(
        select(Notice).where(Notice.case_id == case.id, Notice.kind == "completion")
    )
    licenses = session.scalars(select(License).where(License.case_id == case.id))
    return [{"kind": "notice", "title": n.title, "code": n.code} for n in notices] + [
        {"kind": "license", "title": lic.title, "number": lic.number} for lic in licenses
    ]


def ship(session: Session, tenant: Tenant, case: Case) -> dict[str, Any]:
    """Book the courier; the first plugin that takes the shipment answers with its carrier
    and tracking number."""
    if case.tracking and case.tracking.get("tracking_number"):
        raise Conflict("已交寄，等待快递签收", field="action")
    shipment = {
        "reference": case.number,
        "recipient": case.applicant_name,
        "phone": case.applicant_phone,
        "address": case.delivery_address or "",
        "contents": f"{case.item_name} 办理结果",
        "sender": tenant.display_name,
        "documents": _documents(session, case),
    }
    hooks = get_plugin_manager().for_tenant(session, tenant)
    answer = hooks.first("create_shipment", shipment=shipment)  # one booking, never two
    if answer and answer.get("tracking_number"):
        return {
            "carrier": str(answer.get("carrier") or ""),
            "tracking_number": str(answer["tracking_number"]),
            "events": [],
        }
    if hooks.implements("create_shipment"):
        raise Conflict(
            "快递下单未成功：可稍后再试，或点“改为窗口领取”通知申请人到窗口领取"
            "（原因见系统管理的插件状态）",
            field="delivery",
        )
    raise Conflict("本地区未启用快递寄递服务，请改为窗口领取", field="delivery")


def apply_tracking(
    session: Session, tenant: Tenant, carrier: str, headers: dict[str, str], body: bytes
) -> list[str]:
    """A carrier's tracking callback, vouched for by its plugin: each event is added to its
    case's tracking (once), and "signed" marks the case delivered. The caller commits.
    Returns the case numbers touched. Nobody vouches: 404; a forged callback: 422."""
    hooks = get_plugin_manager().for_tenant(session, tenant)
    answer = hooks.first("track_shipment", carrier=carrier, headers=headers, body=body)
    if not answer:
        raise NotFound("未知的快递渠道", field="carrier")
    if answer.get("error"):
        raise InvalidInput(f"快递回调验证失败：{answer['error']}", field="signature")
    touched = []
    for event in answer.get("events") or []:
        status = str(event.get("status") or "")
        if status not in STATUS_LABELS:
            continue
        case = session.scalars(
            select(Case).where(Case.number == str(event.get("reference") or "")).with_for_update()
        ).first()
        tracking = dict(case.tracking or {}) if case is not None else {}
        if case is None or tracking.get("tracking_number") != str(event.get("tracking_number")):
            continue  # not a waybill of ours
        entry = {
            "status": status,
            "label": STATUS_LABELS[status],
            "description": str(event.get("description") or "")[:200],
            "at": _when(event.get("at")),
        }
        events = list(tracking.get("events") or [])
        if any(e["status"] == entry["status"] and e["at"] == entry["at"] for e in events):
            continue  # the carrier repeats itself
        tracking["events"] = sorted([*events, entry], key=lambda e: e["at"])
        case.tracking = tracking
        flag_modified(case, "tracking")
        touched.append(case.number)
        if status == "signed" and case.state is CaseState.completed:
            case.state, case.delivered_at = CaseState.delivered, clock.now()
            append_event(
                session,
                case,
                Actor("system", carrier, f"快递（{tracking.get('carrier') or carrier}）"),
                "signed",
                from_state=CaseState.completed.value,
                reason=entry["description"],
                data={"tracking_number": tracking["tracking_number"]},
            )
            notify(session, tenant, case, "case_delivered", method="快递（已签收）")
    return touched


def _when(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = clock.now()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.TZ)
    return moment.astimezone(clock.TZ).isoformat(timespec="minutes")

"""courier_post: result delivery by a postal express service's open API (in the style of the
national postal express and logistics platforms).

Wire format (what ``tests/fakes.py`` speaks):

- Requests are form posts to ``{endpoint}/api/gateway`` with ``method`` (``waybill.create``
  or ``account.check``), ``partner_id``, ``timestamp``, ``logistics_interface`` (a JSON
  string) and ``data_digest = base64(md5(logistics_interface + secret))``. The answer is JSON
  ``{"success": "true", "waybillNo": …}`` or ``{"success": "false", "errorCode", "errorMsg"}``.
- A waybill carries ``logisticsOrderNo`` (our case number: the service refuses a second
  waybill for it, so a retry cannot book twice), sender, receiver and the documents inside.
- Tracking is pushed to ``POST /api/v1/t/{slug}/couriers/post/tracking`` in the same form
  (``logistics_interface`` = ``{"traces": [{"waybillNo", "logisticsOrderNo", "opCode",
  "opTime", "opDesc"}]}`` and its ``data_digest``). Operation codes: 10 收寄, 20 运输,
  30 到达, 40 投递, 50 妥投 (signed for), 60 未妥投.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import msgspec

from core.plugins import (
    Booking,
    PluginMeta,
    Secret,
    Shipment,
    hookimpl,
    pooled_client,
    url_problem,
)

CARRIER = "post"
OP_STATUS = {
    "10": "collected",
    "20": "in_transit",
    "30": "in_transit",
    "40": "out_for_delivery",
    "50": "signed",
    "60": "failed",
}


class Config(msgspec.Struct, kw_only=True):
    endpoint: str = ""
    partner_id: str = ""
    secret: Secret = ""
    carrier_name: str = "邮政快递"
    #: the window that hands parcels over (寄件人)
    sender_phone: str = ""
    sender_address: str = ""
    timeout_seconds: float = 10.0


def digest(payload: str, secret: str) -> str:
    return base64.b64encode(hashlib.md5((payload + secret).encode()).digest()).decode()  # noqa: S324 - the carrier's format


def _call(config: Config, method: str, payload: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(payload, ensure_ascii=False)
    response = pooled_client(config.timeout_seconds).post(
        config.endpoint.rstrip("/") + "/api/gateway",
        data={
            "method": method,
            "partner_id": config.partner_id,
            "timestamp": str(int(time.time())),
            "logistics_interface": text,
            "data_digest": digest(text, config.secret),
        },
    )
    try:
        answer: dict[str, Any] = response.json()
        return answer
    except ValueError:
        return {"success": "false", "errorMsg": f"HTTP {response.status_code}"}


def _check(config: Config | None) -> list[str]:
    if config is None or not config.endpoint:
        return ["未配置接口地址（endpoint）"]
    if urlsplit(config.endpoint).scheme not in ("http", "https"):
        return ["接口地址应以 http:// 或 https:// 开头"]
    if problem := url_problem(config.endpoint):
        return ["接口" + problem]
    if not config.partner_id or not config.secret:
        return ["未配置合作方编号或密钥"]
    problems = [] if config.sender_address else ["未配置寄件地址"]
    try:
        answer = _call(config, "account.check", {"partnerId": config.partner_id})
    except httpx.HTTPError as exc:
        return [*problems, f"无法连接快递平台：{exc.__class__.__name__}: {exc}"]
    if str(answer.get("success")) != "true":
        problems.append(f"快递平台拒绝了账号：{answer.get('errorMsg') or answer.get('errorCode')}")
    return problems


meta = PluginMeta(
    name="courier_post",
    version="1.0.0",
    title="邮政快递送达",
    description="办结结果快递送达：下单寄件并跟踪物流。",
    core_compat=">=0.1,<1",
    config=Config,
    check=_check,
    tags=("delivery",),
)


@hookimpl
def create_shipment(config: Config | None, shipment: Shipment) -> Booking | None:
    if config is None or not config.endpoint:
        return None
    answer = _call(
        config,
        "waybill.create",
        {
            "logisticsOrderNo": shipment["reference"],
            "sender": {
                "name": shipment["sender"],
                "mobile": config.sender_phone,
                "address": config.sender_address,
            },
            "receiver": {
                "name": shipment["recipient"],
                "mobile": shipment["phone"],
                "address": shipment["address"],
            },
            "cargoName": shipment["contents"],
            "attachments": shipment.get("documents") or [],
        },
    )
    if str(answer.get("success")) != "true" or not answer.get("waybillNo"):
        raise RuntimeError(f"快递下单失败：{answer.get('errorMsg') or answer}")
    return {"carrier": config.carrier_name, "tracking_number": str(answer["waybillNo"])}


@hookimpl
def track_shipment(
    tenant, config: Config | None, carrier: str, headers: dict[str, str], body: bytes
) -> dict[str, Any] | None:
    if carrier != CARRIER or config is None or not config.secret:
        return None
    fields = dict(parse_qsl(body.decode("utf-8", "replace")))
    payload = fields.get("logistics_interface", "")
    if not hmac.compare_digest(digest(payload, config.secret), fields.get("data_digest", "")):
        return {"error": "data_digest 不符"}
    try:
        traces = json.loads(payload).get("traces") or []
    except (ValueError, AttributeError):
        return {"error": "logistics_interface 不是 JSON"}
    return {
        "events": [
            {
                "reference": t.get("logisticsOrderNo"),
                "tracking_number": t.get("waybillNo"),
                "status": OP_STATUS.get(str(t.get("opCode")), ""),
                "description": t.get("opDesc") or "",
                "at": t.get("opTime"),
            }
            for t in traces
            if isinstance(t, dict)
        ]
    }

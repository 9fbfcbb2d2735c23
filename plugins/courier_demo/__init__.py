"""courier_demo: a courier for the demo and for development (演示快递) — it books a waybill
without any outside service and the parcel then travels on its own: 已揽收 at once, 运输中,
派送中 and 已签收 each ``minutes_per_step`` later.

It works in the embedded mode (``make run``: SQLite, in-process broker). The waybill number
carries the booking time and a keyed check of the case number, so the journey needs no
storage of its own. Its progress reaches the case the way any carrier's does, through the
tracking callback ``POST /api/v1/t/{slug}/couriers/demo/tracking`` with the JSON body
``{"reference": CASE_NUMBER, "tracking_number": WAYBILL}``: the answer is every event due by
now (a repeated event is not recorded twice). When ``push`` is on, the plugin calls that
callback itself at each step, on the server at ``callback_base``; anyone else (a test, a
curl) may call it too — it can only report what is due.

Development only: it cannot be enabled, and is not called, when ``GOVHALL_ENV=production``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import httpx
import msgspec

from core.plugins import Booking, PluginMeta, Secret, Shipment, hookimpl

log = logging.getLogger("govhall.courier_demo")

CARRIER = "demo"
CHINA = timezone(timedelta(hours=8))
#: the journey: (status, description), one step each ``minutes_per_step``
STEPS = (
    ("collected", "快递员已揽收"),
    ("in_transit", "快件运输中，已到达分拣中心"),
    ("out_for_delivery", "快递员正在派送"),
    ("signed", "已签收，本人签收"),
)


class Config(msgspec.Struct, kw_only=True):
    carrier_name: str = "演示快递"
    #: minutes between one tracking event and the next
    minutes_per_step: Annotated[float, msgspec.Meta(title="每段物流间隔（分钟）")] = 1.0
    #: whether the plugin calls the tracking callback itself as the parcel travels
    push: Annotated[bool, msgspec.Meta(title="自动推送物流轨迹")] = True
    #: the server the callback is made on (this server, as the browser reaches it)
    callback_base: Annotated[str, msgspec.Meta(title="本平台访问地址（推送轨迹用）")] = (
        "http://127.0.0.1:8000"
    )
    #: keys the check in the waybill number
    key: Annotated[Secret, msgspec.Meta(title="运单校验密钥")] = "govhall-demo-courier"


def _now() -> float:
    return time.time()


def _mac(key: str, reference: str, booked: int) -> str:
    text = f"{reference}|{booked}".encode()
    return str(int(hmac.new(key.encode(), text, hashlib.sha256).hexdigest()[:10], 16) % 10**6)


def waybill(config: Config, reference: str, booked: int) -> str:
    """``YS`` + the booking time (seconds) + six check digits."""
    return f"YS{booked}{_mac(config.key, reference, booked).zfill(6)}"


def _booked(config: Config, reference: str, number: str) -> int | None:
    if not (number.startswith("YS") and number[2:].isdigit() and len(number) > 8):
        return None
    booked = int(number[2:-6])
    return booked if hmac.compare_digest(waybill(config, reference, booked), number) else None


def events_due(config: Config, reference: str, number: str, now: float) -> list[dict[str, Any]]:
    """The journey's events that have happened by ``now``."""
    booked = _booked(config, reference, number)
    if booked is None:
        return []
    step = max(config.minutes_per_step, 0.0) * 60
    out = []
    for index, (status, description) in enumerate(STEPS):
        at = booked + index * step
        if at > now:
            break
        out.append(
            {
                "reference": reference,
                "tracking_number": number,
                "status": status,
                "description": description,
                "at": datetime.fromtimestamp(at, CHINA).isoformat(timespec="seconds"),
            }
        )
    return out


def _push(url: str, body: bytes) -> None:
    try:
        httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=10)
    except httpx.HTTPError as exc:  # the demo server stopped: the next call catches up
        log.warning("demo courier could not reach %s: %s", url, exc)


def _schedule(config: Config, slug: str, reference: str, number: str) -> None:
    """Call the tracking callback at each step (a little after, so the booking is committed)."""
    url = f"{config.callback_base.rstrip('/')}/api/v1/t/{slug}/couriers/{CARRIER}/tracking"
    body = json.dumps({"reference": reference, "tracking_number": number}).encode()
    step = max(config.minutes_per_step, 0.0) * 60
    for index in range(len(STEPS)):
        timer = threading.Timer(index * step + 3, _push, (url, body))
        timer.daemon = True
        timer.start()


meta = PluginMeta(
    name="courier_demo",
    version="1.0.0",
    title="演示快递（开发用）",
    description="演示用快递送达：无需对接快递公司，自动生成运单号和物流轨迹（揽收、运输、派送、签收）。",
    core_compat=">=0.1,<1",
    config=Config,
    tags=("delivery",),
    # it delivers nothing: a real county must use a real carrier
    development_only=True,
)


@hookimpl
def create_shipment(tenant, config: Config | None, shipment: Shipment) -> Booking:
    config = config or Config()
    reference = str(shipment["reference"])
    number = waybill(config, reference, int(_now()))
    if config.push:
        _schedule(config, tenant.slug, reference, number)
    return {"carrier": config.carrier_name, "tracking_number": number}


@hookimpl
def track_shipment(
    config: Config | None, carrier: str, headers: dict[str, str], body: bytes
) -> dict[str, Any] | None:
    if carrier != CARRIER:
        return None
    config = config or Config()
    try:
        asked = json.loads(body)
        reference, number = str(asked["reference"]), str(asked["tracking_number"])
    except (ValueError, KeyError, TypeError):
        return {"error": "请求应为 JSON：reference 和 tracking_number"}
    if _booked(config, reference, number) is None:
        return {"error": "运单号与办件编号不符"}
    return {"events": events_due(config, reference, number, _now())}

"""A sample vendor plugin, shipped as its own package and written against ``core.plugins``
alone: it shows a notice on the portal of each county that enables it, and offers an SMS
vendor (``sample``) that keeps messages in memory and takes the vendor's callbacks.

Its callbacks are JSON lists signed with the configured ``webhook_token``:
``X-Sample-Signature: hex(HMAC-SHA256(webhook_token, body))``.

- ``POST /api/v1/t/{slug}/sms/sample/receipts``: ``[{"ref": OUR_ID, "ok": true|false,
  "reason": TEXT}]``
- ``POST /api/v1/t/{slug}/sms/sample/inbound``: ``[{"msg_id": ID, "from": PHONE,
  "content": TEXT}]``
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec

from core.plugins import (
    CallbackRefused,
    PluginMeta,
    Secret,
    SendResult,
    SmsInbound,
    SmsInboundAnswer,
    SmsMessage,
    SmsReceipt,
    SmsReceiptsAnswer,
    hookimpl,
)

VENDOR = "sample"
SENT: list[SmsMessage] = []


class Config(msgspec.Struct, kw_only=True):
    notice: str = "本地区已接入示例服务商。"
    priority: int = 1
    #: signs the vendor's callbacks; empty: they are refused
    webhook_token: Secret = ""


meta = PluginMeta(
    name="sample_vendor",
    version="1.2.0",
    title="示例服务商插件",
    description="第三方服务商示例插件（以安装包方式接入）：门户公告和短信通道。",
    core_compat=">=0.1,<1",
    config=Config,
    tags=("sms",),
)


class MemoryVendor:
    name = VENDOR

    def __init__(self, config: Config) -> None:
        self.priority = config.priority

    def send(self, message: SmsMessage) -> SendResult:
        SENT.append(message)
        return SendResult(ok=True, vendor_ref=message.id)


def signature(token: str, body: bytes) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def _verified(config: Config | None, headers: dict[str, str], body: bytes) -> bool:
    token = (config or Config()).webhook_token
    given = headers.get("x-sample-signature", "")
    return bool(token) and hmac.compare_digest(signature(token, body), given)


class _Report(msgspec.Struct):
    ref: str
    ok: bool
    reason: str = ""


class _Incoming(msgspec.Struct, rename={"sender": "from"}):
    msg_id: str
    sender: str
    content: str = ""


@hookimpl
def extra_template_vars(config: Config | None, template: str) -> dict[str, str]:
    if template != "portal/home.html":
        return {}
    return {"sample_vendor_banner": (config or Config()).notice}


@hookimpl
def register_sms_vendors(config: Config | None) -> list[MemoryVendor]:
    return [MemoryVendor(config or Config())]


@hookimpl
def read_sms_receipts(
    config: Config | None, vendor: str, headers: dict[str, str], body: bytes
) -> SmsReceiptsAnswer | CallbackRefused | None:
    if vendor != VENDOR:
        return None
    if not _verified(config, headers, body):
        return {"error": "签名不符"}
    try:
        reports = msgspec.json.decode(body, type=list[_Report])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return {"error": f"无法解析：{exc}"}
    return {
        "receipts": [SmsReceipt(reference=r.ref, delivered=r.ok, error=r.reason) for r in reports]
    }


@hookimpl
def read_sms_inbound(
    config: Config | None, vendor: str, headers: dict[str, str], body: bytes
) -> SmsInboundAnswer | CallbackRefused | None:
    if vendor != VENDOR:
        return None
    if not _verified(config, headers, body):
        return {"error": "签名不符"}
    try:
        replies = msgspec.json.decode(body, type=list[_Incoming])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return {"error": f"无法解析：{exc}"}
    return {
        "messages": [
            SmsInbound(reference=m.msg_id, phone=m.sender, text=m.content) for m in replies
        ]
    }

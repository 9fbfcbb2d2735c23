"""sms_cloud: a cloud SMS service's signed JSON API (in the style of the big Chinese cloud
SMS services): an access key and an HMAC-SHA256 signature on every request, messages sent by
template code and signature name, per-message status callbacks and inbound replies.

Wire format (what ``tests/fakes/sms_gateways.py`` speaks, and what a real account is
configured to):

- ``POST {endpoint}/v1/sms/send`` with JSON ``{"phone", "sign_name", "template_code",
  "template_param", "out_id"}`` (``out_id`` is our outbox id) and the headers
  ``X-Sms-Key``, ``X-Sms-Timestamp`` (unix seconds), ``X-Sms-Nonce`` and
  ``X-Sms-Signature = base64(HMAC-SHA256(secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\n
  sha256_hex(body)))``. Answer: ``{"code": "OK", "biz_id": …}`` or ``{"code": <error>,
  "message": …}``.
- ``GET {endpoint}/v1/account`` (signed the same way, empty body): the self-check.
- Callbacks to ``POST /api/v1/t/{slug}/sms/cloud/receipts`` (``[{"out_id", "biz_id",
  "status": "DELIVERED" | "FAILED", "err_code"}]``) and ``…/inbound`` (``[{"sequence_id",
  "phone", "content"}]``), signed with ``X-Sms-Timestamp`` and ``X-Sms-Signature =
  base64(HMAC-SHA256(secret, TIMESTAMP\\nsha256_hex(body)))``; older than five minutes or
  badly signed: refused.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlsplit

import httpx
import msgspec

from core.plugins import (
    SMS_TEMPLATES,
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
    pooled_client,
    url_problem,
)

#: a callback older (or newer) than this is a replay
MAX_SKEW = 300


class Config(msgspec.Struct, kw_only=True):
    endpoint: str = ""
    access_key_id: str = ""
    access_key_secret: Secret = ""
    #: the approved signature name (签名); empty: the tenant's SMS signature without 【】
    sign_name: str = ""
    #: our template name → the vendor's approved template code, e.g. {"case_received": "SMS_1"}
    template_codes: dict[str, str] = {}
    priority: int = 10
    timeout_seconds: float = 5.0


def client_for(timeout: float) -> httpx.Client:
    """Kept for vendors who copied it from here: :func:`core.plugins.pooled_client`."""
    return pooled_client(timeout)


def sign(secret: str, *parts: str) -> str:
    mac = hmac.new(secret.encode(), "\n".join(parts).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def signed_headers(config: Config, method: str, path: str, body: bytes) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    return {
        "content-type": "application/json",
        "x-sms-key": config.access_key_id,
        "x-sms-timestamp": timestamp,
        "x-sms-nonce": nonce,
        "x-sms-signature": sign(
            config.access_key_secret, method, path, timestamp, nonce, body_hash(body)
        ),
    }


def _problems(config: Config | None) -> list[str]:
    if config is None or not config.endpoint:
        return ["未配置接口地址（endpoint）"]
    problems = []
    if urlsplit(config.endpoint).scheme not in ("http", "https"):
        problems.append("接口地址应以 http:// 或 https:// 开头")
    elif problem := url_problem(config.endpoint):
        problems.append("接口" + problem)
    if not config.access_key_id or not config.access_key_secret:
        problems.append("未配置 AccessKey")
    missing = sorted(t for t in SMS_TEMPLATES if t not in config.template_codes)
    if missing:
        problems.append("以下短信模板未配置模板编码：" + "、".join(missing))
    return problems


def _check(config: Config | None) -> list[str]:
    problems = _problems(config)
    if config is None or any("endpoint" in p or "地址" in p for p in problems):
        return problems
    path = "/v1/account"
    try:
        response = pooled_client(config.timeout_seconds).get(
            config.endpoint.rstrip("/") + path,
            headers=signed_headers(config, "GET", path, b""),
        )
    except httpx.HTTPError as exc:
        return [*problems, f"无法连接短信平台：{exc.__class__.__name__}: {exc}"]
    code = _code(response)
    if code != "OK":
        problems.append(f"短信平台拒绝了账号：{code}")
    return problems


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code") or f"HTTP {response.status_code}")
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}"


meta = PluginMeta(
    name="sms_cloud",
    version="1.0.0",
    title="云短信（签名 JSON 接口）",
    description="云短信服务：按模板发送，接收状态回执和群众回复。",
    core_compat=">=0.1,<1",
    config=Config,
    check=_check,
    tags=("sms",),
)


class CloudVendor:
    name = "cloud"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.priority = config.priority
        self._client = client_for(config.timeout_seconds)

    def send(self, message: SmsMessage) -> SendResult:
        code = self.config.template_codes.get(message.template)
        if not code:
            return SendResult(ok=False, error=f"模板 {message.template} 未配置模板编码")
        sign_name = self.config.sign_name or message.signature.strip("【】[] ")
        body = json.dumps(
            {
                "phone": message.phone,
                "sign_name": sign_name,
                "template_code": code,
                "template_param": {k: str(v) for k, v in message.params.items()},
                "out_id": message.id,
            },
            ensure_ascii=False,
        ).encode()
        path = "/v1/sms/send"
        response = self._client.post(
            self.config.endpoint.rstrip("/") + path,
            content=body,
            headers=signed_headers(self.config, "POST", path, body),
        )
        answer_code = _code(response)
        if answer_code != "OK":
            message_text = ""
            with contextlib.suppress(ValueError):
                message_text = str(response.json().get("message") or "")
            return SendResult(ok=False, error=f"{answer_code} {message_text}".strip())
        return SendResult(ok=True, vendor_ref=message.id)


def _authentic(config: Config, headers: dict[str, str], body: bytes) -> bool:
    secret = config.access_key_secret
    timestamp = headers.get("x-sms-timestamp", "")
    if not secret or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW:
        return False
    expected = sign(secret, timestamp, body_hash(body))
    return hmac.compare_digest(expected, headers.get("x-sms-signature", ""))


class _Report(msgspec.Struct):
    out_id: str
    status: str
    biz_id: str = ""
    err_code: str = ""


class _Reply(msgspec.Struct):
    sequence_id: str
    phone: str
    content: str = ""


@hookimpl
def register_sms_vendors(config: Config | None) -> list[CloudVendor]:
    if config is None or not config.endpoint:
        return []  # not configured: nothing to send through
    return [CloudVendor(config)]


@hookimpl
def read_sms_receipts(
    config: Config | None, vendor: str, headers: dict[str, str], body: bytes
) -> SmsReceiptsAnswer | CallbackRefused | None:
    if vendor != CloudVendor.name or config is None or not config.endpoint:
        return None
    if not _authentic(config, headers, body):
        return {"error": "签名不符或已过期"}
    try:
        reports = msgspec.json.decode(body, type=list[_Report])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return {"error": f"无法解析：{exc}"}
    return {
        "receipts": [
            SmsReceipt(
                reference=r.out_id, delivered=r.status == "DELIVERED", error=r.err_code or ""
            )
            for r in reports
        ]
    }


@hookimpl
def read_sms_inbound(
    config: Config | None, vendor: str, headers: dict[str, str], body: bytes
) -> SmsInboundAnswer | CallbackRefused | None:
    if vendor != CloudVendor.name or config is None or not config.endpoint:
        return None
    if not _authentic(config, headers, body):
        return {"error": "签名不符或已过期"}
    try:
        replies = msgspec.json.decode(body, type=list[_Reply])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return {"error": f"无法解析：{exc}"}
    return {
        "messages": [
            SmsInbound(reference=m.sequence_id, phone=m.phone, text=m.content) for m in replies
        ]
    }

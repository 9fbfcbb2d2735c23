"""sms_gateway: a configurable HTTP gateway, for the many provincial and operator SMS
platforms that take one request per message — GET or POST, form fields or JSON, with the
field names mapped in the config and fixed fields (account, password) added.

Success is an HTTP 2xx whose answer matches ``success_field == success_value`` (JSON) or
contains ``success_text`` (plain text); the vendor's message id is read from ``ref_field``
when given. This gateway has no callbacks: its messages stay ``sent``.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

import httpx
import msgspec

from core.plugins import (
    PluginMeta,
    SecretMap,
    SendResult,
    SmsMessage,
    hookimpl,
    pooled_client,
    url_problem,
)


class Config(msgspec.Struct, kw_only=True):
    url: str = ""
    method: Literal["GET", "POST"] = "POST"
    encoding: Literal["form", "json"] = "form"
    #: our field → the gateway's: phone, text (the signed, rendered message), id (our id),
    #: template (our template name)
    fields: dict[str, str] = msgspec.field(
        default_factory=lambda: {"phone": "mobile", "text": "content", "id": "msgid"}
    )
    #: sent with every message, e.g. {"account": "hc001", "password": "..."}: every value is
    #: treated as a secret (write-only), as gateways put their credentials here
    static: SecretMap = {}
    success_field: str = "code"
    success_value: str = "0"
    #: for gateways that answer plain text: success when the answer contains this
    success_text: str = ""
    ref_field: str = ""
    priority: int = 5
    timeout_seconds: float = 5.0


def _check(config: Config | None) -> list[str]:
    if config is None or not config.url:
        return ["未配置网关地址（url）"]
    if urlsplit(config.url).scheme not in ("http", "https"):
        return ["网关地址应以 http:// 或 https:// 开头"]
    problem = url_problem(config.url)
    if problem:
        return ["网关" + problem]
    missing = [f for f in ("phone", "text") if f not in config.fields]
    if missing:
        return ["字段映射缺少：" + "、".join(missing)]
    try:  # reachable at all? (any HTTP answer will do: the gateway may refuse a bare GET)
        pooled_client(config.timeout_seconds).get(config.url)
    except httpx.HTTPError as exc:
        return [f"无法连接短信网关：{exc.__class__.__name__}: {exc}"]
    return []


meta = PluginMeta(
    name="sms_gateway",
    version="1.0.0",
    title="通用短信网关（HTTP）",
    description="通用短信网关：每条短信一次接口请求，字段可配置。",
    core_compat=">=0.1,<1",
    config=Config,
    check=_check,
    tags=("sms",),
)


class GatewayVendor:
    name = "gateway"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.priority = config.priority

    def send(self, message: SmsMessage) -> SendResult:
        c = self.config
        ours = {"phone": message.phone, "text": message.text, "id": message.id}
        ours["template"] = message.template
        payload = {**c.static, **{theirs: ours[mine] for mine, theirs in c.fields.items()}}
        client = pooled_client(c.timeout_seconds)
        if c.method == "GET":
            response = client.get(c.url, params=payload)
        elif c.encoding == "json":
            response = client.post(c.url, json=payload)
        else:
            response = client.post(c.url, data=payload)
        if not response.is_success:
            return SendResult(ok=False, error=f"HTTP {response.status_code}")
        if c.success_text:
            ok = c.success_text in response.text
            return SendResult(ok=ok, vendor_ref=message.id, error="" if ok else response.text[:200])
        try:
            answer = response.json()
        except ValueError:
            return SendResult(ok=False, error="网关应答不是 JSON：" + response.text[:200])
        if str(answer.get(c.success_field)) != c.success_value:
            return SendResult(ok=False, error=f"{c.success_field}={answer.get(c.success_field)}")
        ref = str(answer.get(c.ref_field) or message.id) if c.ref_field else message.id
        return SendResult(ok=True, vendor_ref=ref)


@hookimpl
def register_sms_vendors(config: Config | None) -> list[GatewayVendor]:
    if config is None or not config.url:
        return []
    return [GatewayVendor(config)]

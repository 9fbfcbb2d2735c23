"""API: SMS vendors' webhooks — inbound replies (ratings by SMS) and delivery receipts.

Like a carrier's tracking and a payment provider's notice, a webhook is read by the vendor's
plugin through a first-result hook (``read_sms_inbound``, ``read_sms_receipts``): it is
given the vendor's name from the URL, the headers and the raw body, and answers ``None`` (not
my vendor), ``{"error": REASON}`` (does not verify: 403) or what the vendor reports. Whatever a
citizen wrote, the vendor gets a 200 (a reply that is not a score is stored with the reason).

Vendor objects that read their own webhooks (``parse_inbound``, ``parse_receipts``: the 0.1
way) are still asked when no plugin answers — deprecated, gone in 0.3."""

from __future__ import annotations

import json
import logging
import warnings
from typing import Any

import anyio
import msgspec
from litestar import Controller, Request, post
from sqlalchemy.orm import Session

from core.errors import Forbidden, InvalidInput, NotFound
from core.notify.relay import apply_receipt, vendors_of
from core.plugins import SmsInbound, SmsReceipt, get_plugin_manager
from core.supervision.ratings import receive_sms
from core.tenancy import Tenant
from core.validation import JSON_NOT_VALID, plain
from web.api.scoped import anyone

__all__ = ["SmsWebhooks"]

log = logging.getLogger("govhall.sms")
MAX_BODY = 256 * 1024


class InboundResult(msgspec.Struct):
    reference: str
    outcome: str  # rated | ignored
    reason: str
    duplicate: bool


class ReceiptsAck(msgspec.Struct):
    ok: bool
    applied: int
    ignored: int


def _legacy(db: Session, tenant: Tenant, vendor: str, method: str, headers, body) -> Any:
    """A 0.1 vendor object's own parser (deprecated), as ``{"error"}`` or the items."""
    found = next((v for v in vendors_of(db, tenant) if v.name == vendor), None)
    parser = getattr(found, method, None)
    if parser is None:
        return None
    warnings.warn(
        f"SMS vendor {vendor}: {method} on the vendor object is deprecated (goes in 0.3); "
        "implement the read_sms_receipts / read_sms_inbound hooks",
        DeprecationWarning,
        stacklevel=2,
    )
    log.warning("SMS vendor %s reads its webhook with the deprecated %s", vendor, method)
    try:
        parsed = parser(headers, body)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"无法解析：{plain(str(exc))}", field="body") from exc
    except (msgspec.DecodeError, ValueError) as exc:
        raise InvalidInput(JSON_NOT_VALID, field="body") from exc
    return {"error": "回调验证失败"} if parsed is None else list(parsed)


def _read(
    db: Session, tenant: Tenant, vendor: str, kind: str, headers: dict[str, str], body: bytes
) -> list[Any]:
    """What the vendor's plugin reads from the webhook: receipts or inbound messages."""
    if "json" in headers.get("content-type", ""):
        try:
            json.loads(body)
        except ValueError as exc:
            raise InvalidInput(JSON_NOT_VALID, field="body") from exc
    hook, key, legacy, struct = {
        "receipts": ("read_sms_receipts", "receipts", "parse_receipts", SmsReceipt),
        "inbound": ("read_sms_inbound", "messages", "parse_inbound", SmsInbound),
    }[kind]
    hooks = get_plugin_manager().for_tenant(db, tenant)
    answer = hooks.first(hook, vendor=vendor, headers=headers, body=body)
    if answer is None:
        answer = _legacy(db, tenant, vendor, legacy, headers, body)
    if answer is None:
        raise NotFound("未知的短信服务商", field="vendor")
    if isinstance(answer, dict) and answer.get("error"):
        # Anyone can send a callback without the token or signature: a refused one says
        # nothing about the vendor, so it is no plugin failure (it turned the plugin 异常 and
        # raised the admin's banner for whoever posted twice). It is logged apart, as a refused
        # request; a vendor whose key changed shows as receipts and replies that stop arriving.
        log.warning(
            "refused SMS %s callback for %s/%s (%s): %s",
            kind,
            tenant.slug,
            vendor,
            hooks.answered_by or "no plugin",
            str(answer["error"])[:200],
        )
        raise Forbidden("回调验证失败")
    items = answer if isinstance(answer, list) else (answer or {}).get(key) or []
    try:
        return [i if isinstance(i, struct) else msgspec.convert(i, struct) for i in items]
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"无法解析：{plain(str(exc))}", field="body") from exc


class SmsWebhooks(Controller):
    path = "/api/v1/t/{slug:str}/sms/{vendor:str}"
    tags = ["sms"]

    @post(
        "/inbound",
        summary="Inbound SMS (上行短信) from a vendor: a reply starting with 0-100 rates the case",
        status_code=200,
        request_max_body_size=MAX_BODY,
        **anyone(),
    )
    async def inbound(
        self, request: Request[Any, Any, Any], db: Session, tenant: Tenant, vendor: str
    ) -> list[InboundResult]:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}

        def work() -> list[InboundResult]:
            out = []
            for message in _read(db, tenant, vendor, "inbound", headers, body):
                result = receive_sms(
                    db, tenant, vendor, message.reference, message.phone, message.text
                )
                db.commit()
                out.append(InboundResult(reference=message.reference, **result))
            return out

        return await anyio.to_thread.run_sync(work)

    @post(
        "/receipts",
        summary="Delivery receipts (状态报告) from a vendor",
        status_code=200,
        request_max_body_size=MAX_BODY,
        **anyone(),
    )
    async def receipts(
        self, request: Request[Any, Any, Any], db: Session, tenant: Tenant, vendor: str
    ) -> ReceiptsAck:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}

        def work() -> ReceiptsAck:
            applied = ignored = 0
            for receipt in _read(db, tenant, vendor, "receipts", headers, body):
                if apply_receipt(db, vendor, receipt.reference, receipt.delivered, receipt.error):
                    applied += 1
                else:
                    ignored += 1
            db.commit()
            return ReceiptsAck(ok=True, applied=applied, ignored=ignored)

        return await anyio.to_thread.run_sync(work)

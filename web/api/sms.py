"""API: SMS vendors' webhooks — inbound replies (ratings by SMS) and delivery receipts.

The vendor plugin authenticates the request and reads its format; whatever a citizen wrote,
the vendor gets a 200 (a reply that is not a score is stored with the reason)."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
from litestar import Controller, Request, post
from sqlalchemy.orm import Session

from core.errors import Forbidden, InvalidInput, NotFound
from core.notify.relay import apply_receipt, vendors_of
from core.supervision.ratings import receive_sms
from core.tenancy import Tenant
from web.api.scoped import anyone

__all__ = ["SmsWebhooks"]

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


def _parse(db: Session, tenant: Tenant, vendor: str, method: str, headers, body) -> list[Any]:
    found = next((v for v in vendors_of(db, tenant) if v.name == vendor), None)
    parser = getattr(found, method, None)
    if parser is None:
        raise NotFound("未知的短信服务商", field="vendor")
    try:
        parsed = parser(headers, body)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise InvalidInput(f"无法解析：{exc}", field="body") from exc
    if parsed is None:
        raise Forbidden("回调验证失败")
    return list(parsed)


class SmsWebhooks(Controller):
    path = "/api/v1/t/{slug:str}/sms/{vendor:str}"
    tags = ["sms"]

    @post(
        "/inbound",
        summary="Inbound SMS (上行短信) from a vendor: a 0-100 reply rates the case",
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
            for message in _parse(db, tenant, vendor, "parse_inbound", headers, body):
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
            for receipt in _parse(db, tenant, vendor, "parse_receipts", headers, body):
                if apply_receipt(db, vendor, receipt.reference, receipt.delivered, receipt.error):
                    applied += 1
                else:
                    ignored += 1
            db.commit()
            return ReceiptsAck(ok=True, applied=applied, ignored=ignored)

        return await anyio.to_thread.run_sync(work)

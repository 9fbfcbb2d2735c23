"""What an SMS vendor plugin implements and exchanges with the core: the vendor interface,
the message it is given, what it answers, and what its webhooks report."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import msgspec

from core.errors import GovhallError

__all__ = ["NoSmsVendor", "SendResult", "SmsInbound", "SmsMessage", "SmsReceipt", "SmsVendor"]


class NoSmsVendor(GovhallError):
    code = "sms_unavailable"
    status = 503


class SmsMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    tenant_slug: str
    phone: str
    template: str
    params: dict[str, Any]
    signature: str
    text: str


class SendResult(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    vendor_ref: str = ""
    error: str = ""


class SmsInbound(msgspec.Struct, frozen=True, kw_only=True):
    """A message a citizen sent us (上行短信), as a vendor's webhook reports it."""

    reference: str  # the vendor's id of the inbound message (duplicates are dropped by it)
    phone: str
    text: str


class SmsReceipt(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery receipt (状态报告) for a message we sent; ``reference`` is our id."""

    reference: str
    delivered: bool
    error: str = ""


@runtime_checkable
class SmsVendor(Protocol):
    """What an SMS vendor plugin returns from ``register_sms_vendors``.

    Optional, for vendors with webhooks (``POST /api/v1/t/{slug}/sms/{name}/inbound`` and
    ``…/receipts``): ``parse_inbound(headers, body) -> list[SmsInbound] | None`` and
    ``parse_receipts(headers, body) -> list[SmsReceipt] | None``; ``None`` means the request
    is not authentic (403)."""

    name: str
    priority: int

    def send(self, message: SmsMessage) -> SendResult: ...

"""The outbox relay: delivers outbox rows through the tenant's SMS vendors.

A row is sent only while it is ``created``, under its row lock (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), and moves to ``sent`` in the same transaction; our row id is the vendor
reference, so a vendor can drop the duplicate if a relay dies between the vendor's answer and
the commit. A failed attempt keeps the row ``created`` with a later ``next_attempt_at``
(backoff); after the last attempt it becomes ``failed``. Vendor receipts move ``sent`` to
``delivered`` or ``failed`` (sign-in codes sent at once leave a ``sent`` row too); a receipt
for an unknown or already final row is ignored. Every vendor's failure to send, and every
receipt saying a message was not delivered, is recorded for the tenant as that vendor's
failure (core/plugins/health.py).

Nothing depends on the broker: the relay sweep (every minute) finds every row still due, so
messages written while Redis was down go out once it is back."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.notify import routing
from core.notify.outbox import OutboxMessage
from core.notify.sms import render_sms, signature_of
from core.notify.types import SmsMessage, SmsVendor
from core.plugins import get_plugin_manager, pooled_client
from core.tenancy import Tenant, get_tenant

__all__ = [
    "BACKOFF",
    "RelayResult",
    "apply_receipt",
    "deliver",
    "due_ids",
    "register_channel",
    "vendors_of",
]

log = logging.getLogger("govhall.relay")

#: seconds to wait after the 1st, 2nd, … failed attempt; one more failure after the last: failed
BACKOFF = (30, 120, 600, 1800, 3600)


@dataclass
class RelayResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def vendors_of(session: Session, tenant: Tenant) -> list[SmsVendor]:
    hooks = get_plugin_manager().for_tenant(session, tenant)
    return [v for group in hooks.call("register_sms_vendors") for v in group]


def _locked(session: Session, message_id: uuid.UUID) -> OutboxMessage | None:
    stmt = select(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.state == "created"
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return session.scalars(stmt.execution_options(populate_existing=True)).first()


def due_ids(session: Session, now: datetime | None = None, limit: int = 1000) -> list[uuid.UUID]:
    """Rows waiting to be sent whose time has come (``ix_outbox_pending``)."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.state == "created", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at)
            .limit(limit)
        )
    )


def deliver(session: Session, message_id: uuid.UUID, now: datetime | None = None) -> str:
    """Try to send one row (the caller commits). Returns what happened: ``sent``,
    ``retry``, ``failed``, ``held`` (over the tenant's rate or quota: waits, no attempt
    counted) or ``skipped`` (not created, locked, or not yet due)."""
    now = now or utcnow()
    row = _locked(session, message_id)
    if row is None or row.next_attempt_at > now:
        return "skipped"
    handler = _CHANNELS.get(row.channel)
    if handler is not None:
        return handler(session, row, now)
    tenant = get_tenant(session, row.tenant_id)
    held = routing.wait_until(session, tenant, now)
    if held is not None:  # over the tenant's rate or daily quota: not an attempt
        row.next_attempt_at, row.error = held
        return "held"
    row.attempts += 1
    errors: list[str] = []
    try:
        message = SmsMessage(
            id=str(row.id),  # our id is the vendor reference
            tenant_slug=tenant.slug,
            phone=row.phone,
            template=row.template,
            params=row.params,
            signature=signature_of(tenant),
            text=render_sms(tenant, row.template, row.params),
        )
        vendors = routing.sending_vendors(session, tenant)
    except Exception as exc:
        row.state, row.error = "failed", f"cannot render: {exc}"[:2000]
        return "failed"
    if not vendors:
        errors.append("本地区尚未启用短信服务")
    result, sender, failures = routing.try_vendors(tenant.id, vendors, message)
    if sender is not None:
        row.state, row.vendor, row.vendor_ref = "sent", sender.name, result.vendor_ref
        row.sent_at, row.error = now, None
        return "sent"
    errors += failures
    return _failed(row, now, "; ".join(errors))


def _post_webhook(session: Session, row: OutboxMessage, now: datetime) -> str:
    """A department system's webhook: the signed body as written, 2xx is delivered. The
    address is a county's config: it is posted to through the plugins' pooled client, which
    reaches public addresses only and follows no redirect (core/plugins/outbound.py)."""
    row.attempts += 1
    try:
        response = pooled_client(10).post(
            row.phone,  # a webhook row keeps its address here
            content=str(row.params.get("body", "")).encode(),
            headers=dict(row.params.get("headers") or {}),
        )
        ok, error = response.is_success, f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        ok, error = False, f"{exc.__class__.__name__}: {exc}"
    if ok:
        row.state, row.vendor, row.sent_at, row.error = "delivered", "webhook", now, None
        row.delivered_at = now
        return "sent"
    return _failed(row, now, error)


ChannelHandler = Callable[[Session, OutboxMessage, datetime], str]

#: rows of channels other than SMS, each delivered by its handler (same outcomes as deliver)
_CHANNELS: dict[str, ChannelHandler] = {"webhook": _post_webhook}


def register_channel(name: str, handler: ChannelHandler) -> None:
    """Deliver the outbox rows of channel ``name`` with ``handler`` (see core.effects)."""
    _CHANNELS[name] = handler


def _failed(row: OutboxMessage, now: datetime, error: str) -> str:
    row.error = error[:2000]
    if row.attempts > len(BACKOFF):
        row.state = "failed"
        log.warning("outbox %s failed for good after %d attempts: %s", row.id, row.attempts, error)
        return "failed"
    row.next_attempt_at = now + timedelta(seconds=BACKOFF[row.attempts - 1])
    return "retry"


def apply_receipt(
    session: Session, vendor: str, reference: str, delivered: bool, error: str = ""
) -> bool:
    """A vendor's delivery receipt (状态报告): ``sent`` → ``delivered`` | ``failed``.
    Unknown references and rows already final are ignored (returns False). A message not
    delivered counts as the vendor's failure to send, a delivered one as a success."""
    try:
        message_id = uuid.UUID(reference)
    except ValueError:
        return False
    row = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    ).first()
    if row is None or row.state != "sent" or (row.vendor and row.vendor != vendor):
        return False
    if delivered:
        row.state, row.delivered_at = "delivered", utcnow()
    else:
        row.state, row.error = "failed", (error or "undelivered")[:2000]
    _count_receipt(session, row, vendor, delivered, error)
    return True


def _count_receipt(
    session: Session, row: OutboxMessage, vendor: str, delivered: bool, error: str
) -> None:
    tenant = get_tenant(session, row.tenant_id)
    hooks = get_plugin_manager().for_tenant(session, tenant)
    plugin = next(
        (
            name
            for name, group in hooks.call_named("register_sms_vendors")
            for found in group or []
            if getattr(found, "name", None) == vendor
        ),
        None,
    )
    if plugin is None:
        return
    if delivered:
        hooks.record_success(plugin, "send_sms", vendor=vendor)
        return
    what = "验证码" if row.template == "otp" else "短信"
    hooks.record_failure(
        plugin,
        "sms_receipt",
        f"{what}未送达：{error or '服务商未说明原因'}",
        vendor=vendor,
        counts_as="send_sms",
    )

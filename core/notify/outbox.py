"""The transactional outbox: a message row written in the same transaction as the change it
announces. A relay actor delivers it later through the tenant's SMS vendors; nothing is lost
while the broker is down, because the row is the truth and the message only a trigger."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, CommitEffect, EncryptedString, TenantOwned, new_id, utcnow
from core.tenancy import Tenant

__all__ = ["OUTBOX_DISPATCH", "OutboxMessage", "enqueue_sms", "note_written", "set_dispatcher"]

#: called after a commit with the ids of the outbox rows it wrote (the workers install one
#: that sends each to the relay actor); failures are logged and left to the relay sweep
_dispatcher: Callable[[list[uuid.UUID]], None] | None = None
log = logging.getLogger("govhall.outbox")


class OutboxMessage(TenantOwned, Base):
    __tablename__ = "outbox"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        Index("ix_outbox_pending", "state", "next_attempt_at"),
        # the tenant's rate limit and daily quota count what it sent lately
        Index("ix_outbox_sent", "tenant_id", "sent_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    template: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(EncryptedString(255))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    case_id: Mapped[uuid.UUID | None] = mapped_column()
    #: created → sent → delivered, or → failed; only ever moves forward (the relay sends a
    #: row only while it is ``created``, holding its lock)
    state: Mapped[str] = mapped_column(String(12), default="created")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    vendor: Mapped[str | None] = mapped_column(String(40))
    vendor_ref: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()


def enqueue_sms(
    session: Session,
    tenant: Tenant,
    phone: str,
    template: str,
    params: dict[str, Any],
    case_id: uuid.UUID | None = None,
) -> OutboxMessage:
    """Write the message in the caller's transaction (the caller commits)."""
    row = OutboxMessage(
        tenant_id=tenant.id, template=template, phone=phone, params=params, case_id=case_id
    )
    session.add(row)
    return row


def note_written(session: Session, ids: list[uuid.UUID]) -> None:
    """Outbox rows a batch wrote with one ``INSERT`` (not through the session): hand them
    to the workers after the commit like the rest."""
    session.info.setdefault(_PENDING, []).extend(ids)


def set_dispatcher(dispatch: Callable[[list[uuid.UUID]], None] | None) -> None:
    global _dispatcher
    _dispatcher = dispatch


_PENDING = "govhall.outbox.new"


def _collect(session: Session) -> None:
    # a message sent at once (a sign-in code) is written already sent: nothing to relay
    ids = [
        o.id for o in session.new if isinstance(o, OutboxMessage) and o.state in (None, "created")
    ]
    if ids:
        session.info.setdefault(_PENDING, []).extend(ids)


def _dispatch(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if not ids or _dispatcher is None:
        return
    try:
        _dispatcher(ids)
    except Exception as exc:
        log.warning("outbox: %d message(s) left to the relay sweep: %s", len(ids), exc)


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


#: rows written in a transaction go to the workers once it commits (see core.effects)
OUTBOX_DISPATCH = CommitEffect(
    "outbox_dispatch", after_flush=_collect, after_commit=_dispatch, after_rollback=_forget
)

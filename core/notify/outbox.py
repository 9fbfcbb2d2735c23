"""The transactional outbox: a message row written in the same transaction as the change it
announces. A relay actor delivers it later through the tenant's SMS vendors; nothing is lost
while the broker is down, because the row is the truth and the message only a trigger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, EncryptedString, TenantOwned, new_id, utcnow
from core.tenancy import Tenant

__all__ = ["OutboxMessage", "enqueue_sms"]


class OutboxMessage(TenantOwned, Base):
    __tablename__ = "outbox"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        Index("ix_outbox_pending", "state", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    template: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(EncryptedString(255))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    case_id: Mapped[uuid.UUID | None] = mapped_column()
    #: created → sending → sent → delivered | failed; only ever moves forward
    state: Mapped[str] = mapped_column(String(12), default="created")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    vendor: Mapped[str | None] = mapped_column(String(40))
    vendor_ref: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


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

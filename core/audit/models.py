"""The audit log's rows: one per administrative change, hash-chained per tenant."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, ProvinceOwned, new_id

__all__ = ["AuditEntry", "AuditHead"]


class AuditEntry(ProvinceOwned, Base):
    """Who changed what in which tenant, when, from where: before → after.

    Province-owned so that a province's console reads the changes of all its counties; the
    county's own pages filter by ``tenant_id``. ``hash = sha256(prev_hash || canonical JSON)``
    chains the entries of one tenant, like a case's trail.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        UniqueConstraint("province_id", "tenant_id", "seq"),
        Index("ix_audit_log_tenant_at", "province_id", "tenant_id", "at"),
        ForeignKeyConstraint(["province_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    #: the tenant the change was made in (a county, a city, or the province itself)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column()
    actor_kind: Mapped[str] = mapped_column(String(20))  # staff | system | cli | plugin
    actor_id: Mapped[str] = mapped_column(String(40))
    actor_name: Mapped[str] = mapped_column(String(120))
    #: the tenant the person belongs to, when not the one changed (a province admin who
    #: entered a county's administration)
    actor_tenant_id: Mapped[uuid.UUID | None] = mapped_column()
    #: where from: the client's address for a page or API call, "命令行" for the CLI
    origin: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(80), default="")
    #: how people name the target (张三, 行政审批局, 营业执照办理 …)
    target_label: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: the reason given (a suspension's, a reset's) or a note
    reason: Mapped[str] = mapped_column(String(500), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(ProvinceOwned, Base):
    """The head of one tenant's chain: how many entries, the last hash (locked to append)."""

    __tablename__ = "audit_heads"
    __table_args__ = (ForeignKeyConstraint(["province_id"], ["tenants.id"], ondelete="CASCADE"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))

"""Per-tenant plugin state: enabled or not, configuration, recorded errors and health."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, EncryptedJSON, TenantOwned, new_id, utcnow


class TenantPlugin(TenantOwned, Base):
    __tablename__ = "tenant_plugins"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: encrypted with the data key: configurations hold vendors' secrets
    config: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    #: the codes of what it put into the county's catalog — ``{"items": [...], "processes":
    #: [...]}`` — kept so that, should its package go missing, those items can be named and
    #: shown as 暂停办理; ``None`` until known (written when it is enabled, or at start-up)
    provides: Mapped[dict[str, list[str]] | None] = mapped_column(JSON(none_as_null=True))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PluginError(TenantOwned, Base):
    """An exception a plugin raised while serving a tenant, kept for the tenant admin."""

    __tablename__ = "plugin_errors"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        Index("ix_plugin_errors_recent", "tenant_id", "plugin", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    plugin: Mapped[str] = mapped_column(String(64))
    #: the vendor the plugin offers (an SMS vendor's name, "" for the plugin's own hooks)
    vendor: Mapped[str] = mapped_column(String(40), default="", server_default="")
    hook: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PluginHealth(TenantOwned, Base):
    """How one plugin has been doing for a tenant at one thing — a hook, or sending through
    one of its SMS vendors: its current run of failures, reset by the next success there
    (see core/plugins/health.py)."""

    __tablename__ = "plugin_health"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)

    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: the SMS vendor sent through ("" for a hook of the plugin's own)
    vendor: Mapped[str] = mapped_column(String(40), primary_key=True, default="")
    #: the hook, or ``send_sms`` for a vendor's sending (its receipts included)
    hook: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: failures in a row since the last success
    failures: Mapped[int] = mapped_column(Integer, default=0)
    #: when the current run of failures began (None while healthy)
    failing_since: Mapped[datetime | None] = mapped_column()
    last_error_at: Mapped[datetime | None] = mapped_column()
    last_ok_at: Mapped[datetime | None] = mapped_column()

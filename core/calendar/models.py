"""A tenant's own calendar corrections, and the years whose holidays it has entered itself."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantOwned, utcnow


class CalendarOverride(TenantOwned, Base):
    """One day declared a holiday or a working day for this tenant (it beats the national one)."""

    __tablename__ = "calendar_overrides"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarYear(TenantOwned, Base):
    """A year the national data does not cover, whose holidays the tenant has entered."""

    __tablename__ = "calendar_years"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Supervision records: the card register, inbound SMS (ratings by reply), and follow-ups a
supervisor works (a low rating, a complaint)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, EncryptedString, EncryptedText, TenantOwned, new_id, utcnow

__all__ = [
    "Card",
    "DashboardDay",
    "DashboardMark",
    "FollowUp",
    "InboundSms",
    "PerformanceScore",
]


def _tenant_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE")


class Card(TenantOwned, Base):
    """A yellow or red card (黄牌/红牌) on a step, raised by the sweep or by a supervisor."""

    __tablename__ = "supervision_cards"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"
        ),
        Index("ix_supervision_cards_at", "tenant_id", "at"),
        Index("ix_supervision_cards_case", "tenant_id", "case_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column()
    task_id: Mapped[uuid.UUID | None] = mapped_column()
    #: the org unit that held the step: dashboards count cards per department
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column()
    department_code: Mapped[str] = mapped_column(String(40), default="")
    item_code: Mapped[str] = mapped_column(String(64), default="")
    #: the staff member who had claimed the step when the card came (none: nobody had)
    staff_id: Mapped[uuid.UUID | None] = mapped_column()
    staff_name: Mapped[str | None] = mapped_column(String(120))
    step_name: Mapped[str] = mapped_column(String(40), default="")
    colour: Mapped[str] = mapped_column(String(10))  # yellow | red
    source: Mapped[str] = mapped_column(String(10))  # sweep | manual
    reason: Mapped[str] = mapped_column(Text, default="")
    issued_by: Mapped[str] = mapped_column(String(120))
    due_on: Mapped[date | None] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundSms(TenantOwned, Base):
    """Every SMS a vendor delivered to us, whatever it said, with what we made of it."""

    __tablename__ = "inbound_sms"
    __table_args__ = (
        _tenant_fk(),
        Index("ix_inbound_sms_vendor_ref", "tenant_id", "vendor", "vendor_ref", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    vendor: Mapped[str] = mapped_column(String(40))
    vendor_ref: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str] = mapped_column(EncryptedString(255))
    text: Mapped[str] = mapped_column(EncryptedText)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    case_id: Mapped[uuid.UUID | None] = mapped_column()
    #: rated | ignored
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(200), default="")


class FollowUp(TenantOwned, Base):
    """Something a supervisor must look into: a rating below 60, or a complaint (投诉)."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"
        ),
        Index("ix_follow_ups_open", "tenant_id", "state", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(12))  # low_rating | complaint
    text: Mapped[str] = mapped_column(EncryptedText, default="")
    score: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str | None] = mapped_column(String(120))
    resolution: Mapped[str | None] = mapped_column(Text)


class PerformanceScore(TenantOwned, Base):
    """A month's performance score (人机考核) of a staff member or a department, with the
    inputs it was computed from so anyone can recompute it."""

    __tablename__ = "performance_scores"
    __table_args__ = (
        _tenant_fk(),
        Index(
            "ix_performance_scores_subject",
            "tenant_id",
            "month",
            "subject_kind",
            "subject_id",
            unique=True,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    month: Mapped[str] = mapped_column(String(7))  # 2026-11
    subject_kind: Mapped[str] = mapped_column(String(10))  # staff | department
    #: a staff member's id or a department's code
    subject_id: Mapped[str] = mapped_column(String(64))
    subject_name: Mapped[str] = mapped_column(String(120))
    score: Mapped[str] = mapped_column(String(10))  # exact decimal, e.g. "92.50"
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DashboardDay(TenantOwned, Base):
    """One closed day's counts per department, item and staff member (dashboards read these,
    so their cost does not grow with the number of cases). Every count belongs to the day its
    event happened, so a closed day never changes."""

    __tablename__ = "dashboard_days"
    __table_args__ = (
        _tenant_fk(),
        Index(
            "ix_dashboard_days_key",
            "tenant_id",
            "day",
            "department_code",
            "item_code",
            "staff_key",
            unique=True,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    day: Mapped[date] = mapped_column(Date)
    department_code: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(64))
    #: the staff member's id, "" for counts that belong to nobody (cases received online)
    staff_key: Mapped[str] = mapped_column(String(40))
    staff_name: Mapped[str] = mapped_column(String(120), default="")
    received: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    corrected: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)
    work_days: Mapped[int] = mapped_column(Integer, default=0)
    yellow: Mapped[int] = mapped_column(Integer, default=0)
    red: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[int] = mapped_column(Integer, default=0)


class DashboardMark(TenantOwned, Base):
    """The last day rolled up into ``dashboard_days`` for a tenant; later days are counted
    live from the cases."""

    __tablename__ = "dashboard_marks"
    __table_args__ = (_tenant_fk(),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    through: Mapped[date] = mapped_column(Date)

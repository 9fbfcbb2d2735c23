"""Supervision records: the card register, inbound SMS (ratings by reply), and follow-ups a
supervisor works (a low rating, a complaint)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, EncryptedString, TenantOwned, new_id, utcnow

__all__ = ["Card", "FollowUp", "InboundSms", "PerformanceScore"]


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
    text: Mapped[str] = mapped_column(String(500))
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
    text: Mapped[str] = mapped_column(Text, default="")
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
    subject_kind: Mapped[str] = mapped_column(String(10))  # staff | unit
    subject_id: Mapped[uuid.UUID] = mapped_column()
    subject_name: Mapped[str] = mapped_column(String(120))
    score: Mapped[str] = mapped_column(String(10))  # exact decimal, e.g. "92.50"
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

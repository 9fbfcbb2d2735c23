"""Consultations and complaints (在线咨询与投诉): a citizen's question about an item, or a
complaint about one of their own cases, answered by the department's staff within a limit in
working days that the deadline sweep watches like a case step."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, EncryptedString, EncryptedText, TenantOwned, new_id, utcnow

__all__ = ["Consultation"]


class Consultation(TenantOwned, Base):
    """One question (咨询) or complaint (投诉) and its answer."""

    __tablename__ = "consultations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        # 我的咨询与投诉
        Index("ix_consultations_asker", "tenant_id", "account_id", "created_at"),
        # the department's open questions, oldest deadline first
        Index("ix_consultations_department", "tenant_id", "department_code", "state", "due_on"),
        # the sweep: open questions without a card that near their limit, yellow ones past it
        Index("ix_consultations_sweep", "tenant_id", "state", "card", "due_on"),
        # an item's public answers (常见问题)
        Index("ix_consultations_faq", "tenant_id", "item_code", "public"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    #: what the citizen quotes: ZX… for a question, TS… for a complaint
    number: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(12))  # consult | complaint
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | answered
    item_code: Mapped[str] = mapped_column(String(64), default="")
    item_name: Mapped[str] = mapped_column(String(200), default="")
    #: a complaint's case (always one of the asker's own)
    case_id: Mapped[uuid.UUID | None] = mapped_column()
    case_number: Mapped[str | None] = mapped_column(String(32))
    #: the department that answers: the item's, or for a complaint the case's
    department_code: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[uuid.UUID] = mapped_column()
    asker_name: Mapped[str] = mapped_column(EncryptedString(255))
    asker_phone: Mapped[str] = mapped_column(EncryptedString(255))
    subject: Mapped[str] = mapped_column(String(120))
    #: what the citizen wrote: people put phone and ID numbers anywhere
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the reply limit (working days in the tenant's calendar)
    due_on: Mapped[date] = mapped_column(Date)
    #: yellow / red card raised by the sweep, each at most once
    card: Mapped[str | None] = mapped_column(String(10))
    answered_at: Mapped[datetime | None] = mapped_column()
    answer: Mapped[str | None] = mapped_column(EncryptedText)
    answered_by: Mapped[uuid.UUID | None] = mapped_column()
    answered_by_name: Mapped[str | None] = mapped_column(String(120))
    #: a question's answer published as the item's 常见问题 (never a complaint's)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the question as the public reads it (the staff may reword it; default the subject)
    public_question: Mapped[str | None] = mapped_column(String(200))

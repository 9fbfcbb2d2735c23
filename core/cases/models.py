"""Cases (办件) and everything hung on them: tasks (the steps being worked), suspension periods,
the hash-chained event trail, materials, notices, payments; e-licenses and their signing keys;
the per-day number sequence."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, EncryptedJSON, EncryptedString, EncryptedText, TenantOwned, new_id, utcnow


class CaseState(enum.StrEnum):
    draft = "draft"  # being filled in by the applicant (or an agent)
    submitted = "submitted"  # waiting for pre-review and acceptance (预审)
    correcting = "correcting"  # a one-time correction notice is out (补正中)
    in_progress = "in_progress"  # accepted; review, approval, issuing
    suspended = "suspended"  # a special procedure stops the clock (特殊程序)
    refused = "refused"  # not accepted (不予受理)
    completed = "completed"  # decided (办结): approved or denied
    delivered = "delivered"  # the result handed over (送达)
    withdrawn = "withdrawn"  # withdrawn by the applicant (撤回)


OPEN_STATES = (
    CaseState.submitted,
    CaseState.correcting,
    CaseState.in_progress,
    CaseState.suspended,
)
FINAL_STATES = (CaseState.refused, CaseState.delivered, CaseState.withdrawn)


class TaskState(enum.StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class FeeStatus(enum.StrEnum):
    free = "free"
    unpaid = "unpaid"
    paid = "paid"
    refunded = "refunded"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=32, validate_strings=True)


def _case_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"
    )


class Case(TenantOwned, Base):
    """One application for one item, pinned to the item version it was filed under."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "applicant_id", "idempotency_key"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        Index("ix_cases_applicant", "applicant_id", "created_at"),
        Index("ix_cases_state_due", "tenant_id", "state", "due_on"),
        # dashboards: each counted event is found by its day, whatever the number of cases
        Index("ix_cases_submitted", "tenant_id", "submitted_at"),
        Index("ix_cases_accepted", "tenant_id", "accepted_on"),
        Index("ix_cases_corrected", "tenant_id", "corrected_at"),
        Index("ix_cases_completed", "tenant_id", "completed_at"),
        Index("ix_cases_rated", "tenant_id", "rated_at"),
        Index("ix_cases_parent", "tenant_id", "parent_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(32))
    query_code: Mapped[str] = mapped_column(String(8))
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[CaseState] = mapped_column(_enum(CaseState, "case_state"))
    #: bumped by every change: two staff acting at once → one gets a conflict
    version: Mapped[int] = mapped_column(Integer)
    __mapper_args__ = {"version_id_col": version}
    # -- what was applied for (pinned) --
    item_id: Mapped[uuid.UUID] = mapped_column()
    item_code: Mapped[str] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(200))
    item_version_id: Mapped[uuid.UUID] = mapped_column()
    item_version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # the item's effective content in force
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # the process definition in force
    department_code: Mapped[str] = mapped_column(String(40))
    #: joint approval (联审联办): the bundle a parent case stands for, and a sub-case's parent
    bundle_code: Mapped[str | None] = mapped_column(String(40))
    parent_id: Mapped[uuid.UUID | None] = mapped_column()
    #: a sub-case the parent can complete without (an optional item of the bundle)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    # -- who --
    applicant_id: Mapped[uuid.UUID] = mapped_column()
    applicant_kind: Mapped[str] = mapped_column(String(20))
    applicant_name: Mapped[str] = mapped_column(String(120))
    applicant_phone: Mapped[str] = mapped_column(EncryptedString(255))
    channel: Mapped[str] = mapped_column(String(20))  # online | counter | agent
    agent_id: Mapped[uuid.UUID | None] = mapped_column()
    agent_name: Mapped[str | None] = mapped_column(String(120))
    #: the org unit of the agent's village station (the case travels up from there)
    origin_unit_id: Mapped[uuid.UUID | None] = mapped_column()
    consent: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: what the applicant typed into the application form: encrypted, as people write phone
    #: and ID numbers into any field
    form: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    #: the form as first submitted: staff see what a correction changed against it
    form_first: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    delivery_method: Mapped[str] = mapped_column(String(20), default="pickup")
    delivery_address: Mapped[str | None] = mapped_column(EncryptedString(1024))
    tracking: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # -- the clock (dates in the tenant's calendar) --
    submitted_at: Mapped[datetime | None] = mapped_column()
    accepted_on: Mapped[date | None] = mapped_column(Date)
    #: the promised deadline (承诺时限) and the legal one; NULL while not running
    due_on: Mapped[date | None] = mapped_column(Date)
    legal_due_on: Mapped[date | None] = mapped_column(Date)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    #: the one-time correction notice (一次性告知) and who sent it
    corrected_at: Mapped[datetime | None] = mapped_column()
    corrected_by: Mapped[uuid.UUID | None] = mapped_column()
    corrected_by_name: Mapped[str | None] = mapped_column(String(120))
    #: who accepted it (受理人): dashboards and scores count the case for them
    accepted_by: Mapped[uuid.UUID | None] = mapped_column()
    accepted_by_name: Mapped[str | None] = mapped_column(String(120))
    completed_at: Mapped[datetime | None] = mapped_column()
    #: set at completion: decided by the promised date; working days from acceptance
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    work_days: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None] = mapped_column()
    decision: Mapped[str | None] = mapped_column(String(20))  # approved | denied
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # -- fees --
    fee_status: Mapped[FeeStatus] = mapped_column(_enum(FeeStatus, "fee_status"))
    fee_total: Mapped[str] = mapped_column(String(20), default="0")
    # -- rating --
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(EncryptedText)
    #: web | sms | counter
    rating_channel: Mapped[str | None] = mapped_column(String(10))
    rated_at: Mapped[datetime | None] = mapped_column()
    # -- the trail's head --
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseTask(TenantOwned, Base):
    """One step of a case's process being (or having been) worked."""

    __tablename__ = "case_tasks"
    __table_args__ = (
        _case_fk(),
        Index("ix_case_tasks_queue", "tenant_id", "state", "role", "due_on"),
        Index("ix_case_tasks_case", "tenant_id", "case_id"),
        # the sweep: open steps without a card that near their limit, yellow ones past it
        Index("ix_case_tasks_sweep", "tenant_id", "state", "card", "due_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column()
    step: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(20))
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column()
    state: Mapped[TaskState] = mapped_column(_enum(TaskState, "task_state"))
    days: Mapped[int] = mapped_column(Integer, default=0)
    started_on: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date | None] = mapped_column(Date)
    claimed_by: Mapped[uuid.UUID | None] = mapped_column()
    claimed_name: Mapped[str | None] = mapped_column(String(120))
    finished_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(32))
    #: yellow / red card raised for this task (supervision), each at most once
    card: Mapped[str | None] = mapped_column(String(10))


class CaseSuspension(TenantOwned, Base):
    """A dated period in which the clock stands still (special procedure)."""

    __tablename__ = "case_suspensions"
    #: by case: a change asks whether its case was ever suspended (core/cases/engine.py)
    __table_args__ = (_case_fk(), Index("ix_case_suspensions_case", "tenant_id", "case_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))  # hearing | inspection | expert_review | …
    reason: Mapped[str] = mapped_column(Text)
    limit_days: Mapped[int] = mapped_column(Integer)
    start_on: Mapped[date] = mapped_column(Date)
    #: the last suspended day (the day before resumption); NULL while it lasts
    end_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseEvent(TenantOwned, Base):
    """One entry of a case's trail; ``hash`` chains it to the one before."""

    __tablename__ = "case_events"
    __table_args__ = (_case_fk(), UniqueConstraint("tenant_id", "case_id", "seq"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column()
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column()
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(40))
    actor_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(40), default="")
    reason: Mapped[str] = mapped_column(EncryptedText, default="")  # may be a citizen's words
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class CaseMaterial(TenantOwned, Base):
    """A material handed in: an upload, an e-license or a material reused from another case."""

    __tablename__ = "case_materials"
    __table_args__ = (_case_fk(), Index("ix_case_materials_case", "tenant_id", "case_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column()
    spec_index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))  # upload | license | reuse
    filename: Mapped[str] = mapped_column(String(200), default="")
    storage_key: Mapped[str | None] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(80), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    encrypted: Mapped[bool] = mapped_column(Boolean, default=True)
    license_id: Mapped[uuid.UUID | None] = mapped_column()
    reused_from: Mapped[uuid.UUID | None] = mapped_column()
    #: current | replaced (by a correction) | rejected (listed in a correction notice)
    status: Mapped[str] = mapped_column(String(20), default="current")
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notice(TenantOwned, Base):
    """A notice PDF (收件通知, 补正告知书, 受理/不予受理通知书, 缴费通知书, 办结通知书)."""

    __tablename__ = "notices"
    __table_args__ = (_case_fk(), UniqueConstraint("tenant_id", "code"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    storage_key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)


class CasePayment(TenantOwned, Base):
    """A payment or refund (统一收费): counter or a payment plugin."""

    __tablename__ = "case_payments"
    __table_args__ = (_case_fk(), UniqueConstraint("tenant_id", "method", "reference"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(10))  # payment | refund
    amount: Mapped[str] = mapped_column(String(20))  # yuan, an exact decimal string
    method: Mapped[str] = mapped_column(String(40))  # counter | a payment provider's name
    reference: Mapped[str] = mapped_column(String(80))
    recorded_by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SigningKey(TenantOwned, Base):
    """A tenant's Ed25519 key for e-licenses; rotation retires it but keeps it for checking."""

    __tablename__ = "signing_keys"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)

    key_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    #: the raw private key, AES-GCM encrypted with the configured data key
    private_key: Mapped[str] = mapped_column(EncryptedString(255))
    public_key: Mapped[str] = mapped_column(String(64))  # url-safe base64 of the raw key
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class License(TenantOwned, Base):
    """An e-license (电子证照) issued by a case, signed, kept in the holder's library."""

    __tablename__ = "licenses"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "code"),
        Index("ix_licenses_holder", "holder_id", "license_type"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column()
    number: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(20))  # public verification code
    license_type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    holder_id: Mapped[uuid.UUID] = mapped_column()
    holder_name: Mapped[str] = mapped_column(String(120))
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    #: the exact bytes that were signed (canonical JSON) and the signature over them
    payload: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(300))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseSequence(TenantOwned, Base):
    """The last case number handed out per tenant and day."""

    __tablename__ = "case_sequences"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


__all__ = [
    "FINAL_STATES",
    "OPEN_STATES",
    "Case",
    "CaseEvent",
    "CaseMaterial",
    "CasePayment",
    "CaseSequence",
    "CaseState",
    "CaseSuspension",
    "CaseTask",
    "FeeStatus",
    "License",
    "Notice",
    "SigningKey",
    "TaskState",
]

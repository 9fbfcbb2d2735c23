"""Request and response bodies of the cases API, and the functions that fill them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.access import is_filer
from core.cases.actions import STATE_LABELS
from core.cases.engine import tasks_of
from core.cases.forms import fields_of
from core.cases.materials import current_materials
from core.cases.models import Case, CaseEvent, License, Notice
from core.cases.service import Applicant, Consent
from core.forms import masked
from core.identity import Principal


class CaseCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    item: str
    #: the application form's values, by field key (``GET /items/{code}/form``)
    form: dict[str, Any] = {}
    delivery: str = "pickup"
    address: str | None = None
    #: an agent or window clerk applying on a citizen's behalf
    applicant: Applicant | None = None
    consent: Consent | None = None
    #: create and submit at once (an item that needs no materials, or a client that
    #: checks a whole form): every problem of the form — missing and wrong — is named in
    #: one 422, and nothing is created unless the submission succeeds
    submit: bool = False


class ReasonIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: str = ""


class RateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    score: int
    comment: str = ""


class ReuseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    index: int
    license_code: str | None = None
    material_id: uuid.UUID | None = None


class TaskOut(msgspec.Struct):
    id: uuid.UUID
    step: str
    name: str
    role: str
    level: str
    state: str
    started_on: date
    due_on: date | None
    claimed_by: str | None
    outcome: str | None
    card: str | None


class MaterialOut(msgspec.Struct):
    id: uuid.UUID
    index: int
    name: str
    source: str
    status: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class NoticeOut(msgspec.Struct):
    kind: str
    title: str
    code: str
    issued_at: datetime
    sha256: str


class LicenseOut(msgspec.Struct):
    number: str
    code: str
    title: str
    license_type: str
    holder: str
    issued_on: date
    key_id: str


class SubCaseOut(msgspec.Struct):
    number: str
    item_code: str
    item_name: str
    state: str
    state_label: str
    due_on: date | None
    decision: str | None
    required: bool


class AvailableActionOut(msgspec.Struct):
    """An action the staff member may take now (``core.cases.available``)."""

    action: str
    label: str
    task: str | None
    task_name: str
    reason_required: bool
    #: other inputs it asks for: materials, fields, kind, days, amount, reference
    asks: list[str]


class CaseOut(msgspec.Struct):
    number: str
    state: str
    state_label: str
    item_code: str
    item_name: str
    item_version: int
    process: str
    applicant: str
    channel: str
    agent: str | None
    delivery: str
    submitted_at: datetime | None
    accepted_on: date | None
    due_on: date | None
    legal_due_on: date | None
    extension_days: int
    corrections: int
    decision: str | None
    decision_reason: str | None
    fee_status: str
    fee_total: str
    tracking: dict[str, Any] | None
    rating: int | None
    query_code: str | None
    tasks: list[TaskOut]
    materials: list[MaterialOut]
    notices: list[NoticeOut]
    licenses: list[LicenseOut]
    created_at: datetime
    #: joint approval: the bundle a parent stands for, its sub-cases; a sub-case's parent
    bundle: str | None = None
    sub_cases: list[SubCaseOut] = []
    parent: str | None = None
    #: the application form as filled in (staff see personal values masked: see
    #: ``POST /cases/{number}/form/reveal``)
    form: dict[str, Any] = {}
    delivery_address: str | None = None
    #: staff: the actions they may take now, as their case page offers them; when there are
    #: none, ``waiting`` says who has the case (此件正在审核环节，由审核员办理)
    available_actions: list[AvailableActionOut] = []
    not_offered: list[str] = []
    waiting: str = ""


class FormIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the applicant has typed so far (a draft, or during a correction)."""

    form: dict[str, Any] = {}
    delivery: str | None = None
    address: str | None = None


class FormOut(msgspec.Struct):
    """The case's form: its values, what may be prefilled, and what a submission lacks."""

    number: str
    values: dict[str, Any]
    prefill: dict[str, Any]
    missing: list[dict[str, str]]


class CaseSummary(msgspec.Struct):
    number: str
    state: str
    state_label: str
    item_code: str
    item_name: str
    applicant: str
    submitted_at: datetime | None
    due_on: date | None


class CaseListOut(msgspec.Struct):
    total: int
    cases: list[CaseSummary]


class EventOut(msgspec.Struct):
    seq: int
    at: datetime
    actor: str
    actor_kind: str
    action: str
    from_state: str
    to_state: str
    step: str
    reason: str
    data: dict[str, Any]
    hash: str


class LinkOut(msgspec.Struct):
    url: str
    expires_in: int


class ProgressStep(msgspec.Struct):
    name: str
    state: str
    started_on: date
    finished_at: datetime | None


class ProgressOut(msgspec.Struct):
    number: str
    item_name: str
    state: str
    state_label: str
    submitted_at: datetime | None
    due_on: date | None
    steps: list[ProgressStep]


class VerifyOut(msgspec.Struct):
    valid: bool
    kind: str  # notice | license
    title: str
    issuer: str
    code: str
    message: str
    case_number: str
    issued_at: str
    holder: str = ""
    number: str = ""
    sha256: str = ""
    #: the department that issued it (issuer is the hall)
    department: str = ""


class KeyOut(msgspec.Struct):
    key_id: str
    algorithm: str
    public_key: str
    active: bool
    created_at: datetime
    retired_at: datetime | None


def material_out(m: Any) -> MaterialOut:
    return MaterialOut(
        id=m.id,
        index=m.spec_index,
        name=m.name,
        source=m.source,
        status=m.status,
        filename=m.filename,
        content_type=m.content_type,
        size=m.size,
        sha256=m.sha256,
        uploaded_at=m.uploaded_at,
    )


def license_out(row: License) -> LicenseOut:
    return LicenseOut(
        number=row.number,
        code=row.code,
        title=row.title,
        license_type=row.license_type,
        holder=row.holder_name,
        issued_on=row.issued_on,
        key_id=row.key_id,
    )


def summary_out(case: Case) -> CaseSummary:
    return CaseSummary(
        number=case.number,
        state=case.state.value,
        state_label=STATE_LABELS[case.state.value],
        item_code=case.item_code,
        item_name=case.item_name,
        applicant=case.applicant_name,
        submitted_at=case.submitted_at,
        due_on=case.due_on,
    )


def _family(db: Session, case: Case) -> dict[str, Any]:
    if case.bundle_code:
        from core.cases.bundles import sub_cases

        subs = [
            SubCaseOut(
                number=s.number,
                item_code=s.item_code,
                item_name=s.item_name,
                state=s.state.value,
                state_label=STATE_LABELS[s.state.value],
                due_on=s.due_on,
                decision=s.decision,
                required=not s.optional,
            )
            for s in sub_cases(db, case)
        ]
        return {"bundle": case.bundle_code, "sub_cases": subs}
    if case.parent_id:
        number = db.scalar(select(Case.number).where(Case.id == case.parent_id))
        return {"parent": number}
    return {}


def _form_for(case: Case, principal: Principal) -> dict[str, Any]:
    values = dict(case.form or {})
    return values if is_filer(principal, case) else masked(fields_of(case), values)


def case_out(db: Session, case: Case, principal: Principal) -> CaseOut:
    notices = db.scalars(select(Notice).where(Notice.case_id == case.id).order_by(Notice.issued_at))
    licenses = db.scalars(select(License).where(License.case_id == case.id))
    return CaseOut(
        **_family(db, case),
        number=case.number,
        state=case.state.value,
        state_label=STATE_LABELS[case.state.value],
        item_code=case.item_code,
        item_name=case.item_name,
        item_version=case.item_version,
        process=str(case.definition.get("code", "")),
        applicant=case.applicant_name,
        channel=case.channel,
        agent=case.agent_name,
        delivery=case.delivery_method,
        submitted_at=case.submitted_at,
        accepted_on=case.accepted_on,
        due_on=case.due_on,
        legal_due_on=case.legal_due_on,
        extension_days=case.extension_days,
        corrections=case.corrections,
        decision=case.decision,
        decision_reason=case.decision_reason,
        fee_status=case.fee_status.value,
        fee_total=case.fee_total,
        tracking=case.tracking,
        rating=case.rating,
        query_code=case.query_code if is_filer(principal, case) else None,
        form=_form_for(case, principal),
        delivery_address=case.delivery_address if is_filer(principal, case) else None,
        tasks=[
            TaskOut(
                id=t.id,
                step=t.step,
                name=t.name,
                role=t.role,
                level=t.level,
                state=t.state.value,
                started_on=t.started_on,
                due_on=t.due_on,
                claimed_by=t.claimed_name,
                outcome=t.outcome,
                card=t.card,
            )
            for t in tasks_of(db, case)
        ],
        materials=[material_out(m) for m in current_materials(db, case)],
        notices=[
            NoticeOut(
                kind=n.kind, title=n.title, code=n.code, issued_at=n.issued_at, sha256=n.sha256
            )
            for n in notices
        ],
        licenses=[license_out(x) for x in licenses],
        created_at=case.created_at,
    )


def event_out(e: CaseEvent) -> EventOut:
    return EventOut(
        seq=e.seq,
        at=e.at,
        actor=e.actor_name,
        actor_kind=e.actor_kind,
        action=e.action,
        from_state=e.from_state,
        to_state=e.to_state,
        step=e.step,
        reason=e.reason,
        data=dict(e.data or {}),
        hash=e.hash,
    )


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def with_actions(
    db: Session, tenant: Any, case: Case, principal: Principal, out: CaseOut
) -> CaseOut:
    """``out`` with what a staff member may do now (the same list as their case page)."""
    if not principal.is_staff:
        return out
    from core.cases.available import availability

    can = availability(db, tenant, case, principal)
    return msgspec.structs.replace(
        out,
        available_actions=[
            AvailableActionOut(
                action=a.code,
                label=a.label,
                task=a.task,
                task_name=a.task_name,
                reason_required=a.needs_reason,
                asks=list(a.asks),
            )
            for a in can.actions
        ],
        not_offered=can.notes,
        waiting=can.waiting,
    )

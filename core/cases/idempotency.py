"""Retries that are safe: a client that did not hear the answer (a timeout, a 503 while the
database restarted, a dropped connection) sends the same request again, and the work is done
once.

- **Idempotency-Key.** A request sent with a key is remembered with its answer for a day,
  per tenant and principal, in the same transaction as the work it did: the same key again
  answers the first answer; the same key with another request is a 422 (``KeyReused``).
- **Already done.** A transition retried by the person who made it (a submission that went
  through although its answer was lost) is recognised from the case's trail, where that is
  unambiguous, and answered with the case instead of a conflict.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.cases.action_types import ActionIn
from core.cases.models import Case, CaseEvent, CaseTask, TaskState
from core.cases.trail import Actor
from core.db import Base, EncryptedText, TenantOwned, utcnow
from core.errors import Conflict, InvalidInput
from core.identity import Principal
from core.tenancy import Tenant

__all__ = [
    "KEEP",
    "MAX_KEY",
    "Answer",
    "IdempotentRequest",
    "KeyReused",
    "already_done",
    "clean_key",
    "fingerprint",
    "forget_expired",
    "owner",
    "recall",
    "remember",
]

#: how long an answer is kept for a retry
KEEP = timedelta(days=1)
MAX_KEY = 80
#: transitions that happen at most once to a case: any earlier one by the same person is it
_ONCE = {"submit", "correct", "withdraw"}


class KeyReused(InvalidInput):
    code = "idempotency_key_reused"


class IdempotentRequest(TenantOwned, Base):
    """A request that came with an ``Idempotency-Key``, and the answer it was given."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        Index("ix_idempotent_requests_created_at", "created_at"),
    )

    #: who sent it: ``citizen:<id>``, ``staff:<id>``, ``client:<client id>``
    principal: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    #: what was asked (method, path, body): the same key with another request is refused
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(80), default="")
    #: the answer's body: a case as its applicant sees it, so encrypted like what they typed
    body: Mapped[str] = mapped_column(EncryptedText, default="")
    #: headers to send again (a page's redirect: ``location``)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Answer:
    """A remembered answer, to be sent again as it was."""

    status: int
    media_type: str
    body: bytes
    headers: dict[str, str]


def owner(principal: Principal) -> str:
    return f"{principal.kind}:{principal.id or principal.client_id or ''}"[:80]


def clean_key(raw: str | None) -> str | None:
    """The key as sent (blank: none); longer than 80 characters is refused."""
    key = (raw or "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key 应为不超过 {MAX_KEY} 个字符的可打印文字", field="Idempotency-Key"
        )
    return key


def fingerprint(*parts: bytes | str) -> str:
    """One digest of what a request asked (its method, path and body, or their parts)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _row(session: Session, principal: Principal, key: str) -> IdempotentRequest | None:
    return session.scalars(
        select(IdempotentRequest).where(
            IdempotentRequest.principal == owner(principal), IdempotentRequest.key == key
        )
    ).first()


def recall(session: Session, principal: Principal, key: str, asked: str) -> Answer | None:
    """The answer given to this key within the last day, or None; ``KeyReused`` when the key
    came with another request."""
    row = _row(session, principal, key)
    if row is None or row.created_at < utcnow() - KEEP:
        return None
    if row.fingerprint != asked:
        raise KeyReused(
            "这个 Idempotency-Key 已用于另一个请求：重试请原样发送，新的请求请换一个新的键",
            field="Idempotency-Key",
        )
    return Answer(
        status=row.status,
        media_type=row.media_type,
        body=(row.body or "").encode(),
        headers={str(k): str(v) for k, v in (row.headers or {}).items()},
    )


def remember(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    key: str,
    asked: str,
    answer: Answer,
) -> None:
    """Keep ``answer`` for the key, in the caller's transaction (so it exists exactly when
    the work does). A second request with the key racing this one is a ``Conflict``, here or
    at commit: its caller answers with the first one's answer."""
    held = _row(session, principal, key)
    if held is not None:
        if held.created_at >= utcnow() - KEEP:  # a request with the key, done meanwhile
            raise Conflict("同一请求正在处理或已处理，请稍后重试", field="Idempotency-Key")
        session.delete(held)  # expired: the key may be used again
        session.flush()
    session.add(
        IdempotentRequest(
            tenant_id=tenant.id,
            principal=owner(principal),
            key=key,
            fingerprint=asked,
            status=answer.status,
            media_type=answer.media_type,
            body=answer.body.decode(),
            headers=dict(answer.headers),
            created_at=utcnow(),
        )
    )


def forget_expired(session: Session, now: datetime | None = None) -> int:
    """Delete the answers older than a day (the caller commits); returns how many."""
    cutoff = (now or utcnow()) - KEEP
    result = session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def already_done(
    session: Session,
    principal: Principal,
    case: Case,
    action: str,
    *,
    task: str | None = None,
    payload: ActionIn | None = None,
) -> bool:
    """Whether ``principal`` already did ``action`` to ``case``: a retry whose first attempt
    went through. Only where that is unambiguous —

    - submit, correct and withdraw happen at most once to a case: any such event by them;
    - claim: the task is theirs now;
    - a staff action: the case's latest event is this action by them, with the opinion and
      the lists they send again (on the step of the task named, which is no longer open).

    Actions that add rather than move (a comment, an extension, a payment, a return one step
    back) are never "already done": only an ``Idempotency-Key`` makes their retry safe."""
    actor = Actor.of(principal)
    if action in _ONCE:
        found = session.scalars(
            select(CaseEvent.id)
            .where(
                CaseEvent.case_id == case.id,
                CaseEvent.action == action,
                CaseEvent.actor_kind == actor.kind,
                CaseEvent.actor_id == actor.id,
            )
            .limit(1)
        ).first()
        return found is not None
    named = _task(session, case, task)
    if task is not None and named is None:
        return False
    if action == "claim":
        if principal.id is None:
            return False
        query = select(CaseTask).where(
            CaseTask.case_id == case.id,
            CaseTask.state == TaskState.open,
            CaseTask.claimed_by == principal.id,
        )
        if named is not None:
            query = query.where(CaseTask.id == named.id)
        return session.scalars(query.limit(1)).first() is not None
    if action in _ADDING or payload is None:
        return False
    latest = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).first()
    if latest is None or (latest.action, latest.actor_kind, latest.actor_id) != (
        action,
        actor.kind,
        actor.id,
    ):
        return False
    if named is not None and (named.state is TaskState.open or latest.step != named.step):
        return False
    return _same_request(latest, payload)


#: actions whose retry would add again rather than find its work done
_ADDING = {"comment", "extend", "pay", "return"}


def _same_request(event: CaseEvent, payload: ActionIn) -> bool:
    """Whether the trail's event says what ``payload`` asks: the same opinion, and for a
    correction notice or a special procedure the same lists and terms."""
    data = event.data or {}
    if payload.action == "request_correction":
        asked = [(m.index, m.reason.strip()) for m in payload.materials]
        listed = [(m.get("index"), m.get("reason")) for m in data.get("materials") or []]
        asked_fields = [(f.key, f.reason.strip()) for f in payload.fields]
        named = [(f.get("key"), f.get("reason")) for f in data.get("fields") or []]
        if asked != listed or asked_fields != named:
            return False
    if payload.action == "suspend" and (data.get("kind"), data.get("limit_days")) != (
        payload.kind,
        payload.days,
    ):
        return False
    return (event.reason or "") == payload.reason.strip()[:2000]


def _task(session: Session, case: Case, task: str | None) -> CaseTask | None:
    if task is None:
        return None
    try:
        task_id = uuid.UUID(task)
    except ValueError:
        return None
    return session.scalars(
        select(CaseTask).where(CaseTask.case_id == case.id, CaseTask.id == task_id)
    ).first()

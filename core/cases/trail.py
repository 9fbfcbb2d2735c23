"""The case trail: every change appends an event, hash-chained per case.

``hash = sha256(prev_hash || canonical JSON of the event)``; the case row keeps the head
(``event_count``, ``last_hash``), so editing, deleting or inserting any row — or cutting the
tail — breaks verification.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import clock
from core.cases.models import Case, CaseEvent
from core.db import new_id
from core.identity import Principal

__all__ = [
    "Actor",
    "ChainReport",
    "append_event",
    "chained_event",
    "digest",
    "verify_chain",
]

GENESIS = "0" * 64
#: session.info key: (event, case) pairs appended in the current transaction
NEW_EVENTS = "govhall.events.new"


@dataclass(frozen=True)
class Actor:
    kind: str  # staff | citizen | enterprise | system
    id: str
    name: str

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.kind, str(principal.id or principal.client_id or ""), principal.name)


SYSTEM = Actor("system", "", "系统")


def digest(prev: str, event: CaseEvent) -> str:
    """The event's hash: sha256 of the previous hash and the event's canonical JSON (what
    :func:`verify_chain` checks; the sweep hashes its batch's events with it too)."""
    body = {
        "case": str(event.case_id),
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": [event.actor_kind, event.actor_id, event.actor_name],
        "action": event.action,
        "from": event.from_state,
        "to": event.to_state,
        "step": event.step,
        "reason": event.reason,
        "data": event.data,
    }
    canonical = msgspec.json.encode(body, order="sorted")
    return hashlib.sha256(prev.encode() + canonical).hexdigest()


def append_event(
    session: Session,
    case: Case,
    actor: Actor,
    action: str,
    *,
    from_state: str,
    step: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append one event after the case's head and move the head (the caller commits)."""
    at = clock.now().astimezone(UTC)
    # microsecond precision survives every backend; the hash is taken over exactly that
    event = CaseEvent(
        tenant_id=case.tenant_id,
        case_id=case.id,
        seq=case.event_count + 1,
        at=at,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        from_state=from_state,
        to_state=case.state.value,
        step=step,
        reason=reason,
        data=msgspec.to_builtins(data or {}),
        prev_hash=case.last_hash or GENESIS,
    )
    event.hash = digest(event.prev_hash, event)
    case.event_count, case.last_hash = event.seq, event.hash
    session.add(event)
    # department systems hear of it at commit (core.cases.departments)
    session.info.setdefault(NEW_EVENTS, []).append((event, case))
    return event


def chained_event(
    tenant_id: Any,
    case_id: Any,
    seq: int,
    prev_hash: str,
    actor: Actor,
    action: str,
    *,
    from_state: str,
    to_state: str,
    step: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """An event after a case's head (``seq``, ``prev_hash``), its hash taken, not added to
    any session: a batch writes many in one statement and moves each case's head itself."""
    event = CaseEvent(
        tenant_id=tenant_id,
        id=new_id(),
        case_id=case_id,
        seq=seq,
        at=clock.now().astimezone(UTC),
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        from_state=from_state,
        to_state=to_state,
        step=step,
        reason="",
        data=msgspec.to_builtins(data or {}),
        prev_hash=prev_hash or GENESIS,
    )
    event.hash = digest(event.prev_hash, event)
    return event


class ChainReport(msgspec.Struct):
    number: str
    intact: bool
    events: int
    #: the first event that does not verify (1-based), if any
    broken_at: int | None = None
    problem: str = ""


def verify_chain(session: Session, case: Case) -> ChainReport:
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    prev = GENESIS
    for expected, event in enumerate(events, start=1):
        if event.seq != expected:
            return _broken(case, len(events), expected, "an event is missing")
        if event.prev_hash != prev:
            return _broken(case, len(events), expected, "the link to the previous event differs")
        if digest(prev, event) != event.hash:
            return _broken(
                case, len(events), expected, "the event was changed after it was written"
            )
        prev = event.hash
    if len(events) != case.event_count or prev != (case.last_hash or GENESIS):
        return _broken(case, len(events), len(events) + 1, "events were removed from the end")
    return ChainReport(number=case.number, intact=True, events=len(events))


def _broken(case: Case, count: int, at: int, problem: str) -> ChainReport:
    return ChainReport(
        number=case.number, intact=False, events=count, broken_at=at, problem=problem
    )

"""Departments' own approval systems (部门自建审批系统): case events forwarded to them as signed
webhooks through the outbox (retried like any message), and their decisions posted back with
a client-credentials token.

A plugin decides who hears what (``forward_case_event``) and which OAuth client speaks for
which department (``department_of_client``). The payload carries no personal data — the case
number, item, department, step and what happened — and is signed when written:
``X-Govhall-Signature: sha256=HEX(HMAC-SHA256(secret, TIMESTAMP + "." + BODY))`` with
``X-Govhall-Timestamp``; the event id makes a redelivery recognisable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.actions import ActionIn, perform
from core.cases.engine import noted_tenant, tasks_of, tenant_hooks
from core.cases.models import Case, CaseEvent
from core.cases.trail import NEW_EVENTS
from core.db import CommitEffect
from core.errors import Forbidden, InvalidInput
from core.identity import Principal, Role
from core.notify.outbox import OutboxMessage
from core.plugins import get_plugin_manager
from core.tenancy import OrgUnit, Tenant, get_tenant

__all__ = [
    "DEPARTMENT_EVENTS",
    "EVENT_CHANNEL",
    "DecisionIn",
    "act_for_department",
    "forward_event_row",
    "queue_events",
    "signature",
]

log = logging.getLogger("govhall.departments")
#: the outbox channel of a case event waiting to be forwarded
EVENT_CHANNEL = "event"
DECISIONS = ("accept", "review", "return", "approve", "deny", "issue", "request_correction")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _payload(tenant: Tenant, case: Case, ev: CaseEvent, unit: str) -> dict[str, Any]:
    return {
        "id": str(ev.id),
        "tenant": tenant.slug,
        "case": case.number,
        "item": case.item_code,
        "item_name": case.item_name,
        "department": case.department_code,
        "unit": unit,
        "action": ev.action,
        "from": ev.from_state,
        "to": ev.to_state,
        "step": ev.step,
        "at": ev.at.isoformat(),
        "due_on": case.due_on.isoformat() if case.due_on else None,
    }


def _forwarding(session: Session, tenant_id: Any, cache: dict[Any, Tenant | None]) -> Tenant | None:
    """The tenant, if any plugin of it forwards case events (its state read, no hook run)."""
    if tenant_id not in cache:
        tenant = noted_tenant(session, tenant_id) or get_tenant(session, tenant_id)
        hooks = tenant_hooks(session, tenant)
        cache[tenant_id] = tenant if hooks.implements("forward_case_event") else None
    return cache[tenant_id]


def queue_events(session: Session, pairs: list[tuple[CaseEvent, Case]]) -> int:
    """An outbox row (channel ``event``) per new event of a tenant that forwards events:
    the workers ask the plugins where each goes (:func:`forward_event_row`), after the
    commit, never inside it. Returns how many were queued."""
    cache: dict[Any, Tenant | None] = {}
    queued = 0
    for ev, case in pairs:
        tenant = _forwarding(session, case.tenant_id, cache)
        if tenant is None:
            continue
        payload = _payload(tenant, case, ev, _unit_code(session, case, ev))
        session.add(
            OutboxMessage(
                tenant_id=case.tenant_id,
                channel=EVENT_CHANNEL,
                template=ev.action[:40],
                phone="-",  # an event row has no address: its webhooks will
                params={"payload": payload},
                case_id=case.id,
            )
        )
        queued += 1
    return queued


def forward_event_row(session: Session, row: OutboxMessage, now: datetime) -> str:
    """The relay's handler of an ``event`` row: the tenant's plugins name the departments'
    systems it goes to, and a signed webhook row is written for each (the caller commits;
    they go out after it)."""
    payload = dict(row.params.get("payload") or {})
    tenant = get_tenant(session, row.tenant_id)
    hooks = get_plugin_manager().for_tenant(session, tenant)
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    stamp = str(int(datetime.fromisoformat(payload["at"]).timestamp()))
    written = 0
    for targets in hooks.call("forward_case_event", event=payload):
        for target in targets or []:
            session.add(
                OutboxMessage(
                    tenant_id=row.tenant_id,
                    channel="webhook",
                    template=row.template,
                    phone=str(target["url"]),  # the address of a webhook
                    params={
                        "body": body,
                        "headers": {
                            "content-type": "application/json",
                            "x-govhall-event": str(payload.get("action", "")),
                            "x-govhall-timestamp": stamp,
                            "x-govhall-signature": signature(
                                str(target["secret"]), stamp, body.encode()
                            ),
                        },
                    },
                    case_id=row.case_id,
                )
            )
            written += 1
    row.attempts += 1
    row.state, row.vendor, row.sent_at, row.delivered_at = "delivered", "plugins", now, now
    row.error = None if written else "没有部门系统接收此事件"
    return "sent"


def _unit_code(session: Session, case: Case, ev: CaseEvent) -> str:
    task = next((t for t in reversed(tasks_of(session, case)) if t.step == ev.step), None)
    if task is None or task.org_unit_id is None:
        return case.department_code
    unit = session.get(OrgUnit, (case.tenant_id, task.org_unit_id))
    return unit.code if unit else case.department_code


def _queue_new_events(session: Session) -> None:
    pairs = session.info.pop(NEW_EVENTS, None)
    if pairs:
        queue_events(session, pairs)


def _forget(session: Session) -> None:
    session.info.pop(NEW_EVENTS, None)


#: at commit, a case's new events are queued for the departments' systems (see core.effects)
DEPARTMENT_EVENTS = CommitEffect(
    "department_events", before_commit=_queue_new_events, after_rollback=_forget
)


class DecisionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    case: str
    action: str
    reason: str = ""
    #: who decided in the department's own system (recorded on the trail)
    officer: str = ""


def act_for_department(
    session: Session, tenant: Tenant, principal: Principal, data: DecisionIn
) -> Case:
    """A department system's decision, as the department: the client must be one a plugin
    vouches for, and the open step must belong to that department (403 otherwise)."""
    if principal.kind != "client" or not principal.client_id:
        raise Forbidden("仅限已登记的部门系统（客户端凭证）")
    hooks = get_plugin_manager().for_tenant(session, tenant)
    code = hooks.first("department_of_client", client_id=principal.client_id)
    if not code:
        raise Forbidden("该客户端未登记为任何部门的审批系统")
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == str(code)))
    if unit is None:
        raise Forbidden("登记的部门不存在")
    if data.action not in DECISIONS:
        raise InvalidInput("部门系统可提交的操作：" + "、".join(DECISIONS), field="action")
    name = f"{unit.name}审批系统" + (f"（{data.officer.strip()[:40]}）" if data.officer else "")
    roles = frozenset(
        (role, unit.id) for role in (Role.window_clerk, Role.reviewer, Role.approver, Role.issuer)
    )
    acting = Principal(
        kind="staff",
        id=None,
        name=name,
        tenant_id=tenant.id,
        province_id=tenant.province_id,
        roles=roles,
        client_id=principal.client_id,
    )
    return perform(
        session, tenant, acting, data.case, ActionIn(action=data.action, reason=data.reason)
    )

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
from typing import Any

import msgspec
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Case, CaseEvent
from core.cases.trail import NEW_EVENTS
from core.db._session import GovhallSession
from core.errors import Forbidden, InvalidInput
from core.identity import Principal, Role
from core.notify.outbox import OutboxMessage
from core.tenancy import OrgUnit, Tenant

__all__ = ["DecisionIn", "act_for_department", "signature", "webhook_rows"]

log = logging.getLogger("govhall.departments")
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


def webhook_rows(session: Session, pairs: list[tuple[CaseEvent, Case]]) -> int:
    """Outbox rows for the new events the tenants' plugins forward; returns how many."""
    from core.plugins import get_plugin_manager
    from core.tenancy import get_tenant

    manager = get_plugin_manager()
    written = 0
    hooks_by_tenant: dict[Any, Any] = {}
    for ev, case in pairs:
        if case.tenant_id not in hooks_by_tenant:
            tenant = get_tenant(session, case.tenant_id)
            hooks = manager.for_tenant(session, tenant)
            hooks_by_tenant[case.tenant_id] = (
                (tenant, hooks) if hooks.implements("forward_case_event") else None
            )
        found = hooks_by_tenant[case.tenant_id]
        if found is None:
            continue
        tenant, hooks = found
        payload = _payload(tenant, case, ev, _unit_code(session, case, ev))
        for targets in hooks.call("forward_case_event", event=payload):
            for target in targets or []:
                body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
                stamp = str(int(ev.at.timestamp()))
                session.add(
                    OutboxMessage(
                        tenant_id=case.tenant_id,
                        channel="webhook",
                        template=ev.action[:40],
                        phone=str(target["url"]),  # the address of a webhook
                        params={
                            "body": body,
                            "headers": {
                                "content-type": "application/json",
                                "x-govhall-event": ev.action,
                                "x-govhall-timestamp": stamp,
                                "x-govhall-signature": signature(
                                    str(target["secret"]), stamp, body.encode()
                                ),
                            },
                        },
                        case_id=case.id,
                    )
                )
                written += 1
    return written


def _unit_code(session: Session, case: Case, ev: CaseEvent) -> str:
    from core.cases.engine import tasks_of

    task = next((t for t in reversed(tasks_of(session, case)) if t.step == ev.step), None)
    if task is None or task.org_unit_id is None:
        return case.department_code
    unit = session.get(OrgUnit, (case.tenant_id, task.org_unit_id))
    return unit.code if unit else case.department_code


@sa_event.listens_for(GovhallSession, "before_commit")
def _forward(session: Session) -> None:
    pairs = session.info.pop(NEW_EVENTS, None)
    if pairs:
        try:
            webhook_rows(session, pairs)
        except Exception:  # noqa: BLE001 - forwarding must never lose the change itself
            log.exception("could not queue the department webhooks")


@sa_event.listens_for(GovhallSession, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(NEW_EVENTS, None)


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
    from core.cases.actions import ActionIn, perform
    from core.plugins import get_plugin_manager

    if principal.kind != "client" or not principal.client_id:
        raise Forbidden("仅限已登记的部门系统（客户端凭证）")
    hooks = get_plugin_manager().for_tenant(session, tenant)
    codes = [c for c in hooks.call("department_of_client", client_id=principal.client_id) if c]
    if not codes:
        raise Forbidden("该客户端未登记为任何部门的审批系统")
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == str(codes[0])))
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

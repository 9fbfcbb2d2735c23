"""首席代表 (chief representative): a staff member a county delegates authority for named items
to, who accepts, reviews, approves and issues one of those items on the spot (即办) — one action,
``chief_decide``, recorded on the trail as 首席代表即办 with the person.

Delegations live in the tenant's settings, ``chief_representatives = {username = [item
codes]}``: a pack declares them in ``tenant.toml`` and the county's admin manages them on
/t/{slug}/admin/chief-representatives (each change is on the audit log). A delegated person is
not held to 审批分离 for those items: deciding what they accepted is the point of the delegation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import record
from core.cases import engine, fees
from core.cases.models import Case, CaseState
from core.catalog.models import Item
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.identity import Principal, Staff
from core.tenancy import Tenant

__all__ = [
    "SETTING",
    "delegated_items",
    "delegations",
    "is_chief_for",
    "on_the_spot",
    "set_delegation",
    "why_not",
]

SETTING = "chief_representatives"
#: the step actions the on-the-spot sequence takes, in order of preference for a step
_SEQUENCE = ("accept", "decide", "forward", "review", "approve", "issue")


def delegations(tenant: Tenant) -> dict[str, list[str]]:
    """username → the item codes delegated to them."""
    raw = (tenant.settings or {}).get(SETTING) or {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): [str(c) for c in v or []] for k, v in raw.items()}


def delegated_items(session: Session, tenant: Tenant, principal: Principal) -> list[str]:
    if not principal.is_staff or principal.id is None:
        return []
    table = delegations(tenant)
    if not table:
        return []
    username = session.scalar(select(Staff.username).where(Staff.id == principal.id))
    return table.get(username or "", [])


def is_chief_for(session: Session, tenant: Tenant, case: Case, principal: Principal) -> bool:
    return case.item_code in delegated_items(session, tenant, principal)


def why_not(session: Session, tenant: Tenant, case: Case, principal: Principal) -> str | None:
    """None when the person may 即办 the case now, else why not ('' when it does not concern
    them: not their delegated item, or a case past acceptance)."""
    if not is_chief_for(session, tenant, case, principal) or case.state is not CaseState.submitted:
        return ""
    if fees.fee_total(case.content) > 0:
        return "收费事项须先缴费，不能由首席代表即办，请按一般程序办理"
    tasks = engine.open_tasks(session, case)
    if not tasks or tasks[0].claimed_by not in (None, principal.id):
        return f"“{tasks[0].name}”已由{tasks[0].claimed_name}认领" if tasks else ""
    return None


def on_the_spot(ctx: Any) -> None:
    """Run the steps one after another, in the delegate's name, until the case is decided
    (each step on the trail as itself, with the opinion), then one 首席代表即办 entry.
    ``ctx`` is the action context of core.cases.actions."""
    session, tenant, case, principal = ctx.s, ctx.tenant, ctx.case, ctx.principal
    problem = why_not(session, tenant, case, principal)
    if problem is None:
        pass
    elif problem:
        raise Conflict(problem, field="action")
    elif not is_chief_for(session, tenant, case, principal):
        raise Forbidden("您不是本事项的首席代表")
    else:
        raise Conflict("办件已受理，不能再即办", field="state")
    before, opinion = case.state.value, ctx.p.reason.strip() or "首席代表即办"
    definition = engine.definition_of(case)
    done: list[str] = []
    for _ in range(20):  # a process has a handful of steps; never loop forever
        tasks = engine.open_tasks(session, case)
        if not tasks or case.state not in (CaseState.submitted, CaseState.in_progress):
            break
        task = tasks[0]
        action = next((a for a in _SEQUENCE if a in definition.step(task.step).actions), None)
        if action is None:
            break
        ctx.p.action, ctx.p.reason = action, opinion
        getattr(ctx, "do_" + action)(task)
        done.append(task.name)
    ctx.p.action, ctx.p.reason = "chief_decide", opinion
    ctx.event(before, None, opinion, steps=done, chief=principal.name)


def set_delegation(
    session: Session, tenant: Tenant, actor: Principal, username: str, items: list[str]
) -> None:
    """Delegate ``items`` to the staff member ``username`` (none: end their delegation); on
    the audit log (the caller commits)."""
    staff = session.scalar(select(Staff).where(Staff.username == username))
    if staff is None:
        raise NotFound("工作人员不存在", field="username")
    codes = list(dict.fromkeys(c.strip() for c in items if c.strip()))
    known = set(session.scalars(select(Item.code).where(Item.code.in_(codes))))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(f"没有这些事项：{'、'.join(unknown)}", field="items")
    row = session.get(Tenant, tenant.id)
    assert row is not None
    table = delegations(row)
    before = table.get(username, [])
    if codes:
        table[username] = codes
    else:
        table.pop(username, None)
    row.settings = {**(row.settings or {}), SETTING: table}
    tenant.settings = row.settings
    record(
        session,
        row,
        actor,
        "staff.delegation",
        target_type="staff",
        target_id=staff.id,
        target_label=staff.name,
        before={"items": before},
        after={"items": codes},
    )

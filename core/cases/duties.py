"""审批分离 (separation of duties): the person who reviewed (审核) a case may not decide it.
The engine refuses (core.cases.actions.perform) and the staff page hides what this forbids;
docs/cases.md says how a county turns it off or exempts items."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.chief import is_chief_for
from core.cases.models import Case, CaseEvent
from core.identity import Principal
from core.tenancy import Tenant

__all__ = ["DECIDING", "blocked_by_duties", "duties_separated"]

#: the decisions the person who reviewed (审核) a case may not take on it (审批分离)
DECIDING = frozenset({"approve", "deny"})


def duties_separated(tenant: Tenant, item_code: str) -> bool:
    """Whether review and decision must be different people for this item: on unless the
    tenant turns it off (``separate_review_and_approval = false``) or exempts the item
    (``separation_exempt_items``), e.g. where one person is the whole department."""
    settings = tenant.settings or {}
    if item_code in (settings.get("separation_exempt_items") or []):
        return False
    return settings.get("separate_review_and_approval", True) is not False


def blocked_by_duties(
    session: Session, tenant: Tenant, case: Case, principal: Principal
) -> frozenset[str]:
    """The actions ``principal`` may not take on ``case`` because they reviewed it."""
    if not principal.is_staff or not duties_separated(tenant, case.item_code):
        return frozenset()
    if is_chief_for(session, tenant, case, principal):  # deciding what they accept: the point
        return frozenset()
    reviewed = session.scalar(
        select(CaseEvent.id)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.action == "review",
            CaseEvent.actor_kind == principal.kind,
            CaseEvent.actor_id == str(principal.id),
        )
        .limit(1)
    )
    return DECIDING if reviewed is not None else frozenset()

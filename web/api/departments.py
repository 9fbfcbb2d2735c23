"""API: a department's own approval system posts its decision on a case (client-credentials
token of an OAuth client a plugin registered for that department)."""

from __future__ import annotations

import msgspec
from litestar import Controller, post
from sqlalchemy.orm import Session

from core.cases import service
from core.cases.departments import DecisionIn, act_for_department
from core.identity import Principal
from core.tenancy import Tenant
from web.api.scoped import needs
from web.auth import require

__all__ = ["DepartmentsApi"]


class DecisionOut(msgspec.Struct):
    case: str
    state: str


class DepartmentsApi(Controller):
    path = "/api/v1/t/{slug:str}/departments"
    tags = ["departments"]

    @post(
        "/decisions",
        summary="A department system's decision on its open step (client credentials)",
        sync_to_thread=True,
        status_code=200,
        **needs("department"),
    )
    def decide(
        self, db: Session, tenant: Tenant, principal: Principal | None, data: DecisionIn
    ) -> DecisionOut:
        """403 unless the token's client speaks for a department and the case's open step is
        that department's; the decision is on the trail under the department system's name
        (and the officer it names)."""
        case = act_for_department(db, tenant, require(principal), data)
        service.commit(db)
        return DecisionOut(case=case.number, state=case.state.value)

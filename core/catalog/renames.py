"""A department renamed: search finds items by their department's name, so the postings of
its items are rewritten in the transaction that renames it (an org unit's edit knows nothing
of the catalog; ``core.effects`` connects this effect)."""

from __future__ import annotations

import uuid

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from core.catalog._bulk import reindex_department
from core.db import CommitEffect
from core.tenancy import OrgUnit, OrgUnitKind, Tenant

__all__ = ["DEPARTMENT_NAMES"]

_RENAMED = "govhall.catalog.renamed_departments"


def _collect(session: Session) -> None:
    for unit in session.dirty:
        if (
            isinstance(unit, OrgUnit)
            and unit.kind is OrgUnitKind.department
            and inspect(unit).attrs.name.history.has_changes()
        ):
            renamed: set[tuple[uuid.UUID, str]] = session.info.setdefault(_RENAMED, set())
            renamed.add((unit.tenant_id, unit.code))


def _reindex(session: Session) -> None:
    _collect(session)  # a rename not flushed yet
    renamed: set[tuple[uuid.UUID, str]] = session.info.pop(_RENAMED, set())
    for tenant_id, code in sorted(renamed):
        tenant = session.get(Tenant, tenant_id)
        if tenant is not None:
            reindex_department(session, tenant, code)


def _forget(session: Session) -> None:
    session.info.pop(_RENAMED, None)


#: the postings of a renamed department's items follow its new name
DEPARTMENT_NAMES = CommitEffect(
    "catalog_department_names",
    before_commit=_reindex,
    after_flush=_collect,
    after_rollback=_forget,
)

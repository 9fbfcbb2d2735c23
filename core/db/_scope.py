"""The tenant scope a session runs in, and the ORM filter that enforces it.

Every ``Session`` carries its scope in ``session.info["scope"]``: either a :class:`Scope`
(one tenant and its province) or :data:`PLATFORM` (explicit, audited cross-tenant work such
as applying tenant packs). A query that touches a tenant-owned table in a session without a
scope raises :class:`TenantScopeError` instead of silently reading every tenant's rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, with_loader_criteria
from sqlalchemy.orm.interfaces import ORMOption

from core.db._base import ProvinceOwned, TenantOwned

__all__ = ["PLATFORM", "Scope", "TenantScopeError", "install_scope_filter", "scope_of"]


class TenantScopeError(RuntimeError):
    """A tenant-owned table was queried outside any tenant scope."""


@dataclass(frozen=True, slots=True)
class Scope:
    tenant_id: uuid.UUID
    province_id: uuid.UUID


class _Platform:
    def __repr__(self) -> str:
        return "PLATFORM"


#: The scope of platform operations that legitimately span tenants (tenant packs, CLI).
PLATFORM = _Platform()


def scope_of(session: Session) -> Scope | _Platform:
    scope = session.info.get("scope")
    if not isinstance(scope, Scope | _Platform):
        raise TenantScopeError("no tenant scope on this session")
    return scope


def _touches_owned_tables(state: ORMExecuteState) -> bool:
    for mapper in state.all_mappers:
        if issubclass(mapper.class_, TenantOwned | ProvinceOwned):
            return True
    return False


def _filter_by_scope(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    scope = state.session.info.get("scope")
    if scope is None:
        if _touches_owned_tables(state):
            raise TenantScopeError(
                "query on a tenant-owned table without a tenant scope; "
                "open the session with Database.session(scope=...)"
            )
        return
    if scope is PLATFORM:
        return
    state.statement = state.statement.options(*_criteria(scope))


@lru_cache(maxsize=4096)
def _criteria(scope: Scope) -> tuple[ORMOption, ...]:
    """The scope's two loader criteria, made once per scope rather than for every query
    (each is an option object with its lambda analysed; the same for every statement)."""
    tenant_id, province_id = scope.tenant_id, scope.province_id
    return (
        with_loader_criteria(
            TenantOwned,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        ),
        with_loader_criteria(
            ProvinceOwned,
            lambda cls: cls.province_id == province_id,
            include_aliases=True,
        ),
    )


def _check_writes(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    """Refuse to write a row into another tenant than the session's."""
    scope = session.info.get("scope")
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantOwned):
            owner, column = obj.tenant_id, "tenant_id"
        elif isinstance(obj, ProvinceOwned):
            owner, column = obj.province_id, "province_id"
        else:
            continue
        if scope is None:
            raise TenantScopeError(f"write of {type(obj).__name__} without a tenant scope")
        if scope is PLATFORM:
            continue
        allowed = scope.tenant_id if column == "tenant_id" else scope.province_id
        if owner is None and obj in session.new:
            setattr(obj, column, allowed)
        elif owner != allowed:
            raise TenantScopeError(f"write of {type(obj).__name__} into another tenant")


def install_scope_filter(session_class: type[Session]) -> None:
    event.listen(session_class, "do_orm_execute", _filter_by_scope)
    event.listen(session_class, "before_flush", _check_writes)

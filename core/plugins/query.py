"""Read-only questions a plugin may ask about one tenant's data: an org unit, an item, a case.

The answers are plain frozen views, copies taken when asked — never ORM objects — so a plugin
can neither change a row by accident nor hold a session open. ``PluginMeta.validate`` is
given a :class:`Lookup`; a hook that needs one opens its own with :func:`open_lookup`.

This package stands low in the core (below the catalog and the cases), so the item and case
answers are read by those packages and handed in once at start-up
(:func:`provide_readers`, connected in ``core.effects``); org units belong to tenancy, below.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import get_database
from core.tenancy import OrgUnit, Tenant, scope_for

__all__ = [
    "CaseView",
    "ItemView",
    "Lookup",
    "OrgUnitView",
    "lookup_for",
    "open_lookup",
    "provide_readers",
]


@dataclass(frozen=True, slots=True)
class OrgUnitView:
    """A department, service centre, township centre, village station or window."""

    code: str
    name: str
    #: ``department``, ``service_centre``, ``township_centre``, ``village_station``, ``window``
    kind: str
    #: the parent unit's code, if any
    parent: str | None
    address: str
    phone: str
    office_hours: str
    #: ``False`` once the unit is closed (撤销): kept for history, offered nowhere
    open: bool


@dataclass(frozen=True, slots=True)
class ItemView:
    """An item of the tenant's catalog, as its live version says."""

    code: str
    name: str
    #: ``active``, ``cancelled``, ``delegated``, ``transferred`` or ``merged``
    status: str
    #: offered now: active, with a published version
    live: bool
    #: the responsible department's org-unit code
    department: str
    category: str
    process: str
    promised_days: int
    legal_days: int
    #: the application form's fields, in the format of ``catalog.toml`` (copies)
    form: tuple[Mapping[str, Any], ...]
    #: the whole effective content (a read-only copy: adopted items with their overrides)
    content: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case, without anything about the person who filed it."""

    number: str
    #: the item's code and name as filed
    item: str
    item_name: str
    #: ``draft``, ``submitted``, ``correcting``, ``in_progress``, ``suspended``, ``refused``,
    #: ``completed``, ``delivered`` or ``withdrawn`` (docs/cases.md)
    state: str
    department: str
    #: the bundle (联审联办) it belongs to, if any
    bundle: str | None
    #: ``pickup`` or ``courier``
    delivery: str
    #: the courier's waybill, once booked
    tracking_number: str | None
    submitted_at: datetime | None
    due_on: date | None
    completed_at: datetime | None
    delivered_at: datetime | None
    #: ``approved`` or ``denied`` once decided
    decision: str | None


ItemReader = Callable[[Session, Tenant, str], ItemView | None]
CaseReader = Callable[[Session, Tenant, str], CaseView | None]
_readers: dict[str, Any] = {}


def provide_readers(*, item: ItemReader, case: CaseReader) -> None:
    """Hand in how items and cases are read (``core.effects`` does, at start-up)."""
    _readers.update(item=item, case=case)


def _reader(kind: str) -> Any:
    try:
        return _readers[kind]
    except KeyError:
        raise RuntimeError(
            f"no {kind} reader: core.effects.install() has not run in this process"
        ) from None


#: the session methods a validate written for 0.1 (given the session itself) may still call
_SESSION_METHODS = frozenset({"execute", "get", "scalar", "scalars"})


class Lookup:
    """Read-only questions about one tenant's data, answered with frozen views.

    ``org_unit(code)``, ``org_units()``, ``item(code)`` and ``case(number)``; an unknown
    code or number answers ``None``. Everything is read inside the tenant's scope: another
    tenant's rows are never seen.
    """

    def __init__(self, session: Session, tenant: Tenant) -> None:
        self._session = session
        self._tenant = tenant

    @property
    def tenant(self) -> Tenant:
        return self._tenant

    def org_units(self) -> list[OrgUnitView]:
        """Every org unit of the tenant (closed ones too: see ``open``), by code."""
        rows = list(
            self._session.scalars(
                select(OrgUnit).where(OrgUnit.tenant_id == self._tenant.id).order_by(OrgUnit.code)
            )
        )
        codes = {row.id: row.code for row in rows}
        return [
            OrgUnitView(
                code=row.code,
                name=row.name,
                kind=str(row.kind.value),
                parent=codes.get(row.parent_id) if row.parent_id else None,
                address=row.address,
                phone=row.phone,
                office_hours=row.office_hours,
                open=row.closed_at is None,
            )
            for row in rows
        ]

    def org_unit(self, code: str) -> OrgUnitView | None:
        return next((unit for unit in self.org_units() if unit.code == code), None)

    def item(self, code: str) -> ItemView | None:
        reader: ItemReader = _reader("item")
        return reader(self._session, self._tenant, code)

    def case(self, number: str) -> CaseView | None:
        reader: CaseReader = _reader("case")
        return reader(self._session, self._tenant, number)

    def __getattr__(self, name: str) -> Any:
        # A validate written for 0.1 was given the session itself and queried it by hand:
        # kept working for one release, with a warning.
        if name in _SESSION_METHODS:
            warnings.warn(
                "PluginMeta.validate is given a core.plugins.Lookup: querying the session "
                f"through it (.{name}) is deprecated and goes in 0.3",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(self._session, name)
        raise AttributeError(name)


def lookup_for(source: Lookup | Session, tenant: Tenant) -> Lookup:
    """A :class:`Lookup` over ``source``: the lookup itself, or a session (what cores before
    0.2 passed to ``PluginMeta.validate``) — so a plugin works on either."""
    return source if isinstance(source, Lookup) else Lookup(source, tenant)


@contextmanager
def open_lookup(tenant: Tenant) -> Iterator[Lookup]:
    """A :class:`Lookup` on a short session of its own, for a hook: it sees what is
    committed, not what the caller has not committed yet."""
    with get_database().session(scope_for(tenant)) as session:
        yield Lookup(session, tenant)
        session.rollback()

"""Guides rendered once per live version and kept (一次性告知).

The guide section of an item page and the printable checklist (一次性告知单) change only when
what they show changes: the live version, the names of its department and category, its
process, the service halls, the tenant's name and branding, the templates. The web layer
renders them (core renders no templates) and keeps the result here, per tenant, item, kind
(``html`` or ``pdf``) and language, under a **stamp**: a digest of everything the rendering
read (:func:`guide_stamp`). A view computes the stamp from what it has at hand and takes the
kept guide only if the stamps agree, so a guide is never served after any of its inputs
changed — in this process or another one, before a restart or after it.

Where it lives: the ``item_guides`` table, because it is shared by every web process and
survives restarts, and because it is written and forgotten in the same transactions as the
catalog (publishing deletes the item's kept guides in the publishing transaction). In front
of it a small in-process LRU (:data:`MEMORY_BYTES`) spares the popular guides the read; its
entries are checked against the stamp like the table's, so it needs no invalidation.

What differs per visitor — who is signed in, the CSRF token, language and elder mode, and
whether the item can be applied for now (暂停办理) — is never kept: the caller renders a
suspended item's guide afresh, and the page around the guide is assembled on every view.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.catalog.models import ItemGuide
from core.db import Database, remembered, snapshot, utcnow
from core.tenancy import OrgUnit, OrgUnitKind, Tenant, scope_for

__all__ = [
    "GUIDE_HTML",
    "GUIDE_PDF",
    "MEMORY_BYTES",
    "KeptGuide",
    "forget_guides",
    "guide_stamp",
    "halls",
    "keep_guide",
    "kept_guide",
]

log = logging.getLogger("govhall.catalog")

GUIDE_HTML = "html"
GUIDE_PDF = "pdf"
#: bytes of kept guides held in each process's memory, the most recently used first
MEMORY_BYTES = 8 * 1024 * 1024
#: how long a view waits for the database's write lock to keep a guide it rendered; when
#: another transaction holds it longer (an import on SQLite), the guide is served unkept
KEEP_WAIT_MS = 200


@dataclass(frozen=True)
class KeptGuide:
    stamp: str
    body: bytes
    rendered_at: datetime


def guide_stamp(tenant: Tenant, version_id: uuid.UUID, kind: str, lang: str, *parts: Any) -> str:
    """The digest of everything a guide's rendering reads: the tenant (its slug, name and
    branding), the live version, the kind and language, and ``parts`` — what the renderer
    read besides (names, the process, the halls, its templates' fingerprint), each given by a
    ``repr`` that changes when it changes."""
    digest = hashlib.sha256()
    branding = sorted((str(k), repr(v)) for k, v in (tenant.branding or {}).items())
    for part in (tenant.id, tenant.slug, tenant.name, branding, version_id, kind, lang, *parts):
        digest.update(repr(part).encode())
        digest.update(b"\x1f")
    return digest.hexdigest()


def halls(session: Session, tenant: Tenant) -> list[Any]:
    """The tenant's service halls (政务服务中心), where a guide sends people to apply at the
    counter, as read-only snapshots remembered for a moment (core/db/_memo.py)."""

    def load() -> list[Any]:
        return [
            snapshot(u)
            for u in session.scalars(
                select(OrgUnit)
                .where(
                    OrgUnit.tenant_id == tenant.id,
                    OrgUnit.kind == OrgUnitKind.service_centre,
                )
                .order_by(OrgUnit.code)
            )
        ]

    return remembered(session, ("catalog-halls", tenant.id), load)


# -- the memory in front of the table -----------------------------------------------------------

_Key = tuple[int, uuid.UUID, uuid.UUID, str, str]
_lock = threading.Lock()
_memory: OrderedDict[_Key, KeptGuide] = OrderedDict()
_held = 0


def _key(session: Session, tenant: Tenant, item_id: uuid.UUID, kind: str, lang: str) -> _Key:
    return (id(session.get_bind()), tenant.id, item_id, kind, lang)


def _remember(key: _Key, kept: KeptGuide) -> None:
    global _held
    with _lock:
        old = _memory.pop(key, None)
        if old is not None:
            _held -= len(old.body)
        _memory[key] = kept
        _held += len(kept.body)
        while _held > MEMORY_BYTES and _memory:
            _, dropped = _memory.popitem(last=False)
            _held -= len(dropped.body)


def forget_memory() -> None:
    """Empty this process's memory of kept guides (the table keeps them)."""
    global _held
    with _lock:
        _memory.clear()
        _held = 0


# -- reading and keeping ------------------------------------------------------------------------


def kept_guide(
    session: Session, tenant: Tenant, item_id: uuid.UUID, kind: str, lang: str, stamp: str
) -> KeptGuide | None:
    """The guide kept for ``stamp``, or None (never rendered, or rendered from other inputs)."""
    key = _key(session, tenant, item_id, kind, lang)
    with _lock:
        hit = _memory.get(key)
        if hit is not None and hit.stamp == stamp:
            _memory.move_to_end(key)
            return hit
    row = session.execute(
        select(ItemGuide.body, ItemGuide.rendered_at).where(
            ItemGuide.tenant_id == tenant.id,
            ItemGuide.item_id == item_id,
            ItemGuide.kind == kind,
            ItemGuide.lang == lang,
            ItemGuide.stamp == stamp,
        )
    ).first()
    if row is None:
        return None
    body = zlib.decompress(row.body) if kind == GUIDE_HTML else bytes(row.body)
    kept = KeptGuide(stamp, body, row.rendered_at)
    _remember(key, kept)
    return kept


def keep_guide(
    database: Database,
    tenant: Tenant,
    item_id: uuid.UUID,
    version_id: uuid.UUID,
    kind: str,
    lang: str,
    stamp: str,
    body: bytes,
) -> KeptGuide:
    """Keep a guide just rendered, in a short transaction of its own (a page view holds no
    write lock): the row of this item, kind and language is replaced. When the write lock
    is not to be had within :data:`KEEP_WAIT_MS`, the guide is remembered in this process
    only, and the table gets it on a later view."""
    kept = KeptGuide(stamp, body, utcnow())
    stored = zlib.compress(body, 6) if kind == GUIDE_HTML else body
    values = {
        "tenant_id": tenant.id,
        "item_id": item_id,
        "kind": kind,
        "lang": lang,
        "version_id": version_id,
        "stamp": stamp,
        "body": stored,
        "rendered_at": kept.rendered_at,
    }
    with database.session(scope=scope_for(tenant)) as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        connection = session.connection()
        try:
            if postgres:
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{KEEP_WAIT_MS}ms'")
                session.execute(_upsert(pg_insert(ItemGuide).values(**values)))
            else:
                waited = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {KEEP_WAIT_MS}")
                try:
                    session.execute(_upsert(sqlite_insert(ItemGuide).values(**values)))
                finally:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(waited or 0)}")
            session.commit()
        except OperationalError as exc:  # locked: served unkept this time
            session.rollback()
            log.info("guide of item %s not kept now: %s", item_id, exc.orig)
        _remember(_key(session, tenant, item_id, kind, lang), kept)
    return kept


def _upsert(insert: Any) -> Any:
    """The row of this item, kind and language replaced (PostgreSQL and SQLite alike)."""
    return insert.on_conflict_do_update(
        index_elements=["tenant_id", "item_id", "kind", "lang"],
        set_={k: insert.excluded[k] for k in ("version_id", "stamp", "body", "rendered_at")},
    )


def forget_guides(session: Session, tenant: Tenant, item_ids: Iterable[uuid.UUID]) -> None:
    """The items' live versions changed: their kept guides go, in the caller's transaction
    (the stamps would refuse them anyway; this keeps the table to the guides in force)."""
    ids = list(item_ids)
    for start in range(0, len(ids), 500):
        session.execute(
            delete(ItemGuide).where(
                ItemGuide.tenant_id == tenant.id, ItemGuide.item_id.in_(ids[start : start + 500])
            )
        )

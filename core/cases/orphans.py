"""Objects in storage that no row names (孤儿对象): a material stored whose row was never
committed (the request failed, or its process died between the put and the commit).

A failed upload deletes its own object at once when nothing can have committed it; when the
commit itself failed (its outcome unknown: the database may have gone away after committing)
the object is deleted once the database answers and says no row names it. The sweep
(``govhall cases sweep-objects``, and hourly in the workers) deletes what is left: objects
under the materials, notices and e-licenses of a tenant, older than an hour, that no row of
any tenant names (a reused material names another's object).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import CaseMaterial, License, Notice
from core.db import PLATFORM, Database, utcnow
from core.storage import Storage, get_storage

__all__ = ["SWEPT_KINDS", "SweepReport", "referenced", "remove_unless_committed", "sweep"]

log = logging.getLogger("govhall.storage")

#: the kinds of objects (``t/{tenant}/{kind}/…``) whose rows are cases' own
SWEPT_KINDS = ("materials", "notices", "licenses")
_CHUNK = 500


def referenced(session: Session, keys: Iterable[str]) -> set[str]:
    """The keys some row names, of any tenant (call it in PLATFORM scope)."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    by_id: dict[tuple[uuid.UUID, uuid.UUID], str] = {}
    for key in wanted:  # a material's key carries its row's id: a primary-key read
        parts = key.split("/")
        if len(parts) == 5 and parts[2] == "materials":
            with contextlib.suppress(ValueError):  # not one of ours: found the long way
                by_id[(uuid.UUID(parts[1]), uuid.UUID(parts[4].split(".", 1)[0]))] = key
    per_tenant: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for tenant_id, material_id in by_id:
        per_tenant[tenant_id].append(material_id)
    for tenant_id, ids in per_tenant.items():
        for start in range(0, len(ids), _CHUNK):
            rows = session.execute(
                select(CaseMaterial.id, CaseMaterial.storage_key).where(
                    CaseMaterial.tenant_id == tenant_id,
                    CaseMaterial.id.in_(ids[start : start + _CHUNK]),
                )
            )
            found.update(key for _, key in rows if key)
    rest = [k for k in wanted if k not in found]
    for model in (CaseMaterial, Notice, License):  # reuses, notices, e-licenses
        for start in range(0, len(rest), _CHUNK):
            found.update(
                k
                for k in session.scalars(
                    select(model.storage_key).where(
                        model.storage_key.in_(rest[start : start + _CHUNK])
                    )
                )
                if k
            )
    return found


def _delete(storage: Storage, keys: Iterable[str]) -> int:
    done = 0
    for key in keys:
        storage.delete(key)
        done += 1
    return done


def _settle(database: Database, storage: Storage, keys: list[str]) -> int:
    """Delete those of ``keys`` no row names; raises while the database cannot say."""
    with database.session(scope=PLATFORM) as session:
        named = referenced(session, keys)
    return _delete(storage, [k for k in keys if k not in named])


def remove_unless_committed(
    database: Database,
    keys: list[str],
    *,
    certain: bool = False,
    patience: float = 180.0,
    storage: Storage | None = None,
) -> None:
    """After a unit of work that stored ``keys`` failed: delete them. ``certain``: nothing
    was committed (the failure came before the commit) — delete now. Otherwise ask the
    database which of them a row names; while it cannot answer (restarting), keep asking in
    the background for ``patience`` seconds, then leave them to the sweep."""
    if not keys:
        return
    storage = storage or get_storage()
    try:
        if certain:
            _delete(storage, keys)
        else:
            _settle(database, storage, keys)
        return
    except Exception as exc:
        log.warning("objects of a failed request kept for now (%s): %s", exc, keys)

    def later() -> None:
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            time.sleep(2.0)
            try:
                _settle(database, storage, keys)
                return
            except Exception as exc:  # still down: ask again
                log.debug("objects of a failed request still undecided: %s", exc)
        log.warning("left to the sweep: %s", keys)

    threading.Thread(target=later, name="govhall-orphans", daemon=True).start()


@dataclass
class SweepReport:
    #: objects looked at (of the swept kinds)
    scanned: int = 0
    #: old enough and named by no row
    orphaned: int = 0
    deleted: int = 0
    examples: list[str] = field(default_factory=list)


def sweep(
    database: Database,
    storage: Storage | None = None,
    *,
    older_than: timedelta = timedelta(hours=1),
    dry_run: bool = False,
) -> SweepReport:
    """Delete the objects under the swept kinds, older than ``older_than``, that no row
    names. Idempotent; young objects are left alone (their request may still commit)."""
    storage = storage or get_storage()
    cutoff = utcnow() - older_than
    report = SweepReport()
    batch: list[str] = []

    def flush() -> None:
        with database.session(scope=PLATFORM) as session:
            named = referenced(session, batch)
        lost = [k for k in batch if k not in named]
        report.orphaned += len(lost)
        report.examples.extend(lost[: max(0, 10 - len(report.examples))])
        if not dry_run:
            report.deleted += _delete(storage, lost)
        batch.clear()

    for info in storage.list("t/"):
        parts = info.key.split("/")
        if len(parts) < 4 or parts[2] not in SWEPT_KINDS:
            continue
        report.scanned += 1
        if info.modified is None or info.modified > cutoff:
            continue  # young (its request may yet commit), or of an age nobody knows
        batch.append(info.key)
        if len(batch) >= _CHUNK:
            flush()
    if batch:
        flush()
    if report.orphaned:
        log.info("object sweep: %s", report)
    return report

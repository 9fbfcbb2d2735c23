"""Imports from the admin page run in a worker, reporting progress as they go.

Every run ends: done, or failed with the reasons in Chinese — a bad row, a file that cannot be
read, or anything unexpected (logged in full for the operator). Progress (校验 then 写入, with
counts) is kept beside the uploaded file in storage rather than in the database: on SQLite
the import's own transaction holds the only write lock while it writes, so a progress row
could not be committed until the import was over.
"""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import BACKGROUND_ACTOR, AuditActor, record
from core.catalog.models import CatalogImport
from core.catalog.transfer import ImportFailed, import_rows, read_rows
from core.db import Database, Scope, get_database, new_id, utcnow
from core.errors import GovhallError, InvalidInput, NotFound
from core.storage import get_storage, tenant_key
from core.tenancy import Tenant, get_tenant, scope_for

__all__ = [
    "IMPORT_STATUS",
    "MAX_IMPORT_BYTES",
    "JobProgress",
    "get_import",
    "job_progress",
    "recent_imports",
    "run_import",
    "start_import",
]

log = logging.getLogger("govhall.catalog")

MAX_IMPORT_BYTES = 20 * 1024 * 1024
#: A job not finished this long after it was uploaded has lost its worker (the actor's own
#: time limit is 30 minutes): it is shown as failed rather than polled for ever.
ABANDONED_AFTER = timedelta(minutes=45)
PHASES = {"check": "校验", "write": "写入"}
UNEXPECTED = "导入中断：系统内部错误，未导入任何事项。请稍后重试；如仍失败，请联系系统管理员。"
ABANDONED = "导入中断：处理超时或后台任务已停止，未导入任何事项。请重新上传。"


@dataclass
class JobProgress:
    phase: str  # check | write
    done: int
    total: int

    @property
    def label(self) -> str:
        return PHASES.get(self.phase, self.phase)


def IMPORT_STATUS(job: CatalogImport) -> str:
    """The job's state as a person reads it."""
    if job.status == "running":
        return f"{job_progress(job).label}中"
    return {"pending": "排队中", "done": "已完成", "failed": "失败"}.get(job.status, job.status)


def start_import(
    session: Session,
    tenant: Tenant,
    data: bytes,
    filename: str,
    *,
    actor: AuditActor | None = None,
) -> CatalogImport:
    """Keep the file in storage and record a pending import (the caller sends the job)."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InvalidInput("请上传 .csv 或 .xlsx 文件", field="file")
    if not data:
        raise InvalidInput("文件是空的", field="file")
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput("文件超过 20 MB", field="file")
    job_id = new_id()
    key = tenant_key(tenant.id, "imports", f"{job_id}{suffix}")
    get_storage().put(key, io.BytesIO(data), "application/octet-stream")
    job = CatalogImport(
        tenant_id=tenant.id, id=job_id, filename=Path(filename).name[:255], storage_key=key
    )
    session.add(job)
    record(
        session,
        tenant,
        actor,
        "catalog.import",
        target_type="import",
        target_id=job_id,
        target_label=job.filename,
        after={"file": job.filename},
        reason="开始导入",
    )
    session.flush()
    return job


def get_import(session: Session, tenant: Tenant, job_id: uuid.UUID) -> CatalogImport:
    """The job; one whose worker has long gone is marked failed on the way."""
    job = session.get(CatalogImport, (tenant.id, job_id))
    if job is None:
        raise NotFound("没有这次导入")
    if job.status in ("pending", "running") and utcnow() - job.created_at > ABANDONED_AFTER:
        job.status, job.problems, job.finished_at = "failed", [ABANDONED], utcnow()
        session.commit()
    return job


def recent_imports(session: Session, tenant: Tenant) -> list[CatalogImport]:
    return list(
        session.scalars(
            select(CatalogImport)
            .where(CatalogImport.tenant_id == tenant.id)
            .order_by(CatalogImport.created_at.desc())
            .limit(10)
        )
    )


def _progress_key(job: CatalogImport) -> str:
    return job.storage_key + ".progress.json"


def job_progress(job: CatalogImport) -> JobProgress:
    """Where a job is: the worker's latest report while it runs, the job's row after."""
    if job.status == "running":
        try:
            raw = json.loads(get_storage().read(_progress_key(job)))
            return JobProgress(str(raw["phase"]), int(raw["done"]), int(raw["total"]))
        except (GovhallError, ValueError, KeyError, TypeError, OSError):
            pass  # nothing reported yet
    return JobProgress(job.phase, job.done, job.total)


class _Reporter:
    """Writes the worker's progress at most twice a second, and always at a phase's end."""

    def __init__(self, job: CatalogImport) -> None:
        self.key, self.last = _progress_key(job), 0.0

    def __call__(self, done: int, total: int, phase: str) -> None:
        now = time.monotonic()
        if done not in (0, total) and now - self.last < 0.5:
            return
        self.last = now
        body = json.dumps({"phase": phase, "done": done, "total": total}).encode()
        get_storage().put(self.key, io.BytesIO(body), "application/json")


def run_import(tenant_id: uuid.UUID, job_id: uuid.UUID) -> str:
    """Run a pending import once; returns its final status. Safe to call again."""
    database = get_database()
    with database.session(scope=None) as s:
        tenant = get_tenant(s, tenant_id)
    scope = scope_for(tenant)
    with database.session(scope=scope) as session:
        job = session.get(CatalogImport, (tenant_id, job_id))
        if job is None or job.status in ("done", "failed"):
            return job.status if job else "missing"
        job.status = "running"
        session.commit()
    reporter = _Reporter(job)
    status, problems, counts, notes = "failed", [UNEXPECTED], (0, 0, 0), []
    with database.session(scope=scope) as session:
        try:
            sheet = read_rows(get_storage().read(job.storage_key), job.filename)
            reporter(0, len(sheet.rows), "check")
            report = import_rows(session, tenant, sheet, reporter)
            record(  # one entry for the whole import, never one per row
                session,
                tenant,
                BACKGROUND_ACTOR,
                "catalog.import",
                target_type="import",
                target_id=job_id,
                target_label=job.filename,
                after={"created": report.created, "updated": report.updated},
                reason="导入完成",
            )
            session.commit()
            status, problems = "done", []
            counts, notes = (report.created, report.updated, report.unchanged), report.notes
        except ImportFailed as exc:
            problems = exc.problems
        except GovhallError as exc:
            problems = [exc.detail]
        except Exception:
            log.exception("catalog import %s failed unexpectedly", job_id)
        finally:
            session.rollback()
    _finish(database, scope, job_id, status, problems + notes, counts)
    return status


def _finish(
    database: Database,
    scope: Scope,
    job_id: uuid.UUID,
    status: str,
    messages: list[str],
    counts: tuple[int, int, int],
) -> None:
    """Record how the job ended (a failed job keeps the place it had reached)."""
    with database.session(scope=scope) as session:
        job = session.get(CatalogImport, (scope.tenant_id, job_id))
        if job is None:
            return
        reached = job_progress(job)
        job.status, job.problems, job.finished_at = status, messages, utcnow()
        job.created, job.updated, job.unchanged = counts
        if status == "done":
            job.phase, job.done, job.total = "write", sum(counts), sum(counts)
        else:
            job.phase, job.done, job.total = reached.phase, reached.done, reached.total
        session.commit()
        key = _progress_key(job)
    try:
        get_storage().delete(key)
    except (GovhallError, OSError):
        log.warning("could not remove the progress of import %s", job_id)

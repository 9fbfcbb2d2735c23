"""Imports from the admin page run in a worker, reporting progress as they go."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalog.models import CatalogImport
from core.catalog.transfer import ImportFailed, import_rows, read_rows
from core.db import get_database, new_id, utcnow
from core.errors import GovhallError, InvalidInput, NotFound
from core.storage import get_storage, tenant_key
from core.tenancy import Tenant, get_tenant, scope_for

__all__ = ["get_import", "recent_imports", "run_import", "start_import"]

MAX_IMPORT_BYTES = 20 * 1024 * 1024


def start_import(session: Session, tenant: Tenant, data: bytes, filename: str) -> CatalogImport:
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
    session.flush()
    return job


def get_import(session: Session, tenant: Tenant, job_id: uuid.UUID) -> CatalogImport:
    job = session.get(CatalogImport, (tenant.id, job_id))
    if job is None:
        raise NotFound("no such import")
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
        key, filename = job.storage_key, job.filename

    # SQLite has one writer: while the import's own transaction writes, progress can only
    # be reported for the checking phase. PostgreSQL reports both phases.
    single_writer = database.dialect == "sqlite"

    def report_progress(done: int, total: int, phase: str) -> None:
        if phase == "write" and single_writer:
            return
        if done == total or done % 25 == 0:
            with database.session(scope=scope) as progress:
                row = progress.get(CatalogImport, (tenant_id, job_id))
                if row is not None:
                    row.done, row.total, row.phase = done, total, phase
                    progress.commit()

    with database.session(scope=scope) as session:
        status, problems, counts = "done", [], (0, 0, 0)
        try:
            rows = read_rows(get_storage().read(key), filename)
            report_progress(0, len(rows), "check")
            report = import_rows(session, tenant, rows, report_progress)
            counts = (report.created, report.updated, report.unchanged)
            session.commit()
        except ImportFailed as exc:
            session.rollback()
            status, problems = "failed", exc.problems
        except GovhallError as exc:
            session.rollback()
            status, problems = "failed", [exc.detail]
    with database.session(scope=scope) as session:
        job = session.get(CatalogImport, (tenant_id, job_id))
        job.status, job.problems, job.finished_at = status, problems, utcnow()
        job.created, job.updated, job.unchanged = counts
        if status == "done":
            job.done = job.total
        session.commit()
    return status

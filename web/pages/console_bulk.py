"""Bulk onboarding from a spreadsheet: the job and its progress.

Like the catalog import (core/catalog/imports.py), the uploaded file and the job's progress
are kept in storage beside each other rather than in the database (on SQLite the import's own
transaction holds the only write lock while it writes), and the page polls a fragment. The run
is 校验 every row (every problem, by the row number the spreadsheet shows) and then 写入 all
rows in one transaction, or nothing. It runs in a thread of the web process: the rows are
few (a province has a few hundred counties) and the worker layer may not call the web's.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from core.audit.log import AuditActor
from core.db import get_database, new_id
from core.errors import GovhallError, InvalidInput, NotFound
from core.storage import get_storage, tenant_key
from core.tenancy import Tenant, get_tenant, scope_for
from core.tenancy import onboarding as ob

__all__ = ["MAX_BYTES", "BulkJob", "get", "launch", "start"]

log = logging.getLogger("govhall.console")

MAX_BYTES = 2 * 1024 * 1024
UNEXPECTED = "开通中断：系统内部错误，未开通任何地区。请稍后重试。"


@dataclass
class _Who:
    kind: str
    id: uuid.UUID | None
    name: str
    tenant_id: uuid.UUID | None


@dataclass
class BulkJob:
    id: str
    filename: str
    status: str  # pending | running | done | failed
    phase: str = "check"  # check | write
    done: int = 0
    total: int = 0
    problems: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    actor: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.status == "running":
            return "校验中" if self.phase == "check" else "写入中"
        return {"pending": "排队中", "done": "已完成", "failed": "失败"}.get(self.status, "")

    @property
    def phase_label(self) -> str:
        return "校验" if self.phase == "check" else "写入"


def _key(tenant_id: uuid.UUID, job_id: str, what: str) -> str:
    return tenant_key(tenant_id, "tenant-imports", f"{job_id}.{what}")


def _save(tenant_id: uuid.UUID, job: BulkJob) -> None:
    body = json.dumps(job.__dict__, ensure_ascii=False, default=str).encode()
    get_storage().put(_key(tenant_id, job.id, "json"), io.BytesIO(body), "application/json")


def start(tenant: Tenant, actor: AuditActor, data: bytes, filename: str) -> str:
    """Keep the file and a pending job; the job's id."""
    if not filename.lower().endswith(".xlsx"):
        raise InvalidInput("请上传 .xlsx 文件（可先下载模板）", field="file")
    if not data:
        raise InvalidInput("文件是空的", field="file")
    if len(data) > MAX_BYTES:
        raise InvalidInput("文件超过 2 MB", field="file")
    job_id = str(new_id())
    get_storage().put(
        _key(tenant.id, job_id, "xlsx"),
        io.BytesIO(data),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    who = {
        "kind": actor.kind,
        "id": str(actor.id) if actor.id else None,
        "name": actor.name,
        "tenant_id": str(actor.tenant_id) if actor.tenant_id else None,
    }
    _save(tenant.id, BulkJob(id=job_id, filename=filename[-120:], status="pending", actor=who))
    return job_id


def get(tenant: Tenant, job_id: uuid.UUID) -> BulkJob:
    try:
        raw = json.loads(get_storage().read(_key(tenant.id, str(job_id), "json")))
    except (GovhallError, OSError, ValueError):
        raise NotFound("没有这次批量开通") from None
    return BulkJob(**raw)


def launch(tenant: Tenant, job_id: str) -> threading.Thread:
    thread = threading.Thread(
        target=run, args=(tenant.id, job_id), name=f"bulk-onboard-{job_id}", daemon=True
    )
    thread.start()
    return thread


def run(tenant_id: uuid.UUID, job_id: str) -> str:
    """Run a pending job once: 校验 every row, then 写入 them all or none."""
    database = get_database()
    with database.session(scope=None) as s:
        tenant = get_tenant(s, tenant_id)
    job = get(tenant, uuid.UUID(job_id))
    if job.status != "pending":
        return job.status
    job.status = "running"
    _save(tenant_id, job)
    actor = _Who(
        job.actor.get("kind", "staff"),
        uuid.UUID(job.actor["id"]) if job.actor.get("id") else None,
        job.actor.get("name", ""),
        uuid.UUID(job.actor["tenant_id"]) if job.actor.get("tenant_id") else None,
    )

    def report(done: int, total: int) -> None:
        job.done, job.total = done, total
        if done in (0, total) or done % 10 == 0:
            _save(tenant_id, job)

    try:
        rows = ob.read_bulk_rows(get_storage().read(_key(tenant_id, job_id, "xlsx")))
        job.total = len(rows)
        with database.session(scope=scope_for(tenant)) as session:
            actor_tenant = session.get(type(tenant), tenant_id)
            assert actor_tenant is not None
            problems = ob.check_bulk(session, actor_tenant, rows, report)
            if problems:
                job.status, job.problems = "failed", [str(p) for p in problems]
            else:
                job.phase, job.done = "write", 0
                _save(tenant_id, job)
                created = ob.write_bulk(session, actor_tenant, actor, rows, report)
                session.commit()
                job.status, job.created = "done", [f"{t.name}（{t.slug}）" for t in created]
    except GovhallError as exc:
        job.status, job.problems = "failed", [exc.detail]
    except Exception:
        log.exception("bulk onboarding %s failed unexpectedly", job_id)
        job.status, job.problems = "failed", [UNEXPECTED]
    _save(tenant_id, job)
    if job.status == "done":
        from web.deps import forget_tenants

        forget_tenants()
    return job.status

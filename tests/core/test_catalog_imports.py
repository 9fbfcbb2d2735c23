"""Imports from the admin page: the worker reports both phases with counts while it runs —
on SQLite too, whose single write lock the import holds while it writes — and every job
ends."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from core.catalog.imports import get_import, job_progress, run_import, start_import
from core.catalog.transfer import export_rows
from core.db import Database
from core.storage import get_storage, reset_storage
from core.storage.local import LocalStorage
from core.tenancy import scope_for
from tests.helpers import tenant


class RecordingStorage(LocalStorage):
    """The local storage, keeping every progress report the worker writes."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.reports: list[dict] = []

    def put(self, key, data, content_type):
        if key.endswith(".progress.json"):
            body = data.read()
            self.reports.append(json.loads(body))
            data = io.BytesIO(body)
        return super().put(key, data, content_type)


def _sheet(db: Database, slug: str, extra: int) -> bytes:
    t = tenant(db, slug)
    with db.session(scope=scope_for(t)) as s:
        rows = list(export_rows(s, t))
    header, first = rows[0], rows[1]
    for i in range(extra):
        row = list(first)
        row[0], row[1] = f"{first[0]}-P{i}", f"进度测试事项{i}"
        rows.append(row)
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows[1:]])
    return out.getvalue().encode()


def test_the_worker_reports_checking_then_writing_with_counts(db: Database, tmp_path: Path) -> None:
    storage = RecordingStorage(str(tmp_path / "objects"))
    reset_storage(storage)
    cili = tenant(db, "cili")
    with db.session(scope=scope_for(cili)) as s:
        job = start_import(s, cili, _sheet(db, "cili", 3), "cili.csv")
        s.commit()
    assert run_import(cili.id, job.id) == "done"
    phases = [(r["phase"], r["done"], r["total"]) for r in storage.reports]
    checked = [p for p in phases if p[0] == "check"]
    written = [p for p in phases if p[0] == "write"]
    assert checked and checked[-1][1] == checked[-1][2] > 3
    assert written and written[-1] == ("write", 3, 3)
    assert phases.index(checked[-1]) < phases.index(written[-1])
    with db.session(scope=scope_for(cili)) as s:
        done = get_import(s, cili, job.id)
        assert (done.status, done.created) == ("done", 3)
        assert storage.stat(done.storage_key + ".progress.json") is None  # cleaned up


def test_a_running_job_shows_the_phase_and_counts_the_worker_last_reported(
    db: Database, tmp_path: Path
) -> None:
    reset_storage(LocalStorage(str(tmp_path / "objects")))
    cili = tenant(db, "cili")
    with db.session(scope=scope_for(cili)) as s:
        job = start_import(s, cili, _sheet(db, "cili", 0), "cili.csv")
        job.status = "running"
        s.commit()
        get_storage().put(
            job.storage_key + ".progress.json",
            io.BytesIO(b'{"phase": "write", "done": 1500, "total": 53456}'),
            "application/json",
        )
        seen = job_progress(get_import(s, cili, job.id))
    assert (seen.label, seen.done, seen.total) == ("写入", 1500, 53456)

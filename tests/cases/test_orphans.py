"""No object is left in storage that no row names: an upload refused after its file was
stored deletes it; one whose commit failed deletes it once the database says no row names
it; and the sweep (``govhall cases sweep-objects``, hourly in the workers) deletes what a
crash between the put and the commit left behind, and only that."""

from __future__ import annotations

import io
import os
import sqlite3
import time
import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner
from dramatiq import Worker
from sqlalchemy import event, select

from core.cases.models import Case, CaseMaterial
from core.cases.orphans import remove_unless_committed, sweep
from core.db import Database
from core.storage import get_storage, reset_storage, tenant_key
from core.storage.local import LocalStorage
from core.storage.s3 import S3Storage
from tests.cases.conftest import PDF, Desk
from tests.helpers import account_token, bearer

ZHANG = "13800000001"
ITEM = "HC-SC03"


def _objects(desk: Desk, number: str) -> set[str]:
    case = desk.case(number)
    prefix = tenant_key(desk.tenant.id, "materials", str(case.id)) + "/"
    return {o.key for o in get_storage().list(prefix)}


def _keys(desk: Desk, number: str) -> set[str]:
    with desk.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        return set(
            s.scalars(select(CaseMaterial.storage_key).where(CaseMaterial.case_id == case.id))
        )


def _upload(client, token: str, number: str, index: int):
    return client.post(
        f"/api/v1/t/hechi/cases/{number}/materials",
        files={"file": ("身份证.pdf", io.BytesIO(PDF), "application/pdf")},
        data={"index": str(index)},
        headers=bearer(token),
    )


def _age(key: str, hours: float) -> None:
    """Make a stored object look written ``hours`` ago (the local backend's file time)."""
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    then = time.time() - hours * 3600
    os.utime(storage.root / key, (then, then))


def _orphan(desk: Desk, number: str) -> str:
    """What a process killed between storing a material and committing its row leaves."""
    case = desk.case(number)
    key = tenant_key(desk.tenant.id, "materials", str(case.id), f"{uuid.uuid4()}.pdf")
    get_storage().put(key, io.BytesIO(b"GHF1 encrypted bytes"), "application/octet-stream")
    return key


def test_an_upload_refused_after_its_file_was_stored_leaves_no_object(
    client, db: Database, hechi: Desk
) -> None:
    citizen = hechi.citizen(ZHANG)
    number = hechi.apply(citizen, ITEM)
    hechi.act(
        hechi.staff("hechi-clerk"),
        number,
        "request_correction",
        materials=[{"index": 1, "reason": "营业执照复印件不清晰，请重新扫描"}],
    )
    before = _objects(hechi, number)
    assert before == _keys(hechi, number)
    token = account_token(db, "hechi", ZHANG)
    refused = _upload(client, token, number, 0)  # the notice named material 1, not 0
    assert refused.status_code == 409, refused.text
    assert _objects(hechi, number) == before  # the file it stored is gone again
    assert _upload(client, token, number, 1).status_code == 201
    assert _objects(hechi, number) == _keys(hechi, number)


def test_an_upload_while_the_database_is_locked_leaves_no_object(
    client, db: Database, backend: str, hechi: Desk, app
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's lock; PostgreSQL's outage is in tests/web/test_unavailable.py")
    number = hechi.apply(hechi.citizen(ZHANG), ITEM, submit=False)
    token = account_token(db, "hechi", ZHANG)
    before = _objects(hechi, number)
    impatient = Database(db.url)
    event.listen(impatient.engine, "connect", lambda c, _r: c.execute("PRAGMA busy_timeout=300"))
    app.state.database = impatient
    blocker = sqlite3.connect(db.url.removeprefix("sqlite:///"))
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another writer, past our timeout
        answer = _upload(client, token, number, 0)
        assert answer.status_code == 503 and answer.headers["retry-after"]
    finally:
        blocker.rollback()
        blocker.close()
        app.state.database = db
        impatient.dispose()
    assert _objects(hechi, number) == before


def test_after_a_failed_commit_only_objects_no_row_names_are_deleted(
    db: Database, hechi: Desk
) -> None:
    number = hechi.apply(hechi.citizen(ZHANG), ITEM, submit=False)
    named = next(iter(_keys(hechi, number)))
    lost = _orphan(hechi, number)
    remove_unless_committed(db, [named, lost])  # the commit's outcome unknown: ask the rows
    assert _objects(hechi, number) == _keys(hechi, number)
    assert named in _objects(hechi, number)


def test_the_sweep_deletes_old_objects_no_row_names_and_nothing_else(
    db: Database, hechi: Desk
) -> None:
    from web.cli import main

    number = hechi.apply(hechi.citizen(ZHANG), ITEM, submit=False)
    kept = _keys(hechi, number)
    for key in kept:
        _age(key, 3)  # old, but a row names them
    old, young = _orphan(hechi, number), _orphan(hechi, number)
    _age(old, 2)
    runner = CliRunner()
    looked = runner.invoke(main, ["cases", "sweep-objects", "--dry-run"])
    assert looked.exit_code == 0, looked.output
    assert f"无人引用：{old}" in looked.output and young not in looked.output
    assert old in _objects(hechi, number)  # a dry run deletes nothing
    swept = runner.invoke(main, ["cases", "sweep-objects"])
    assert swept.exit_code == 0, swept.output
    assert "已删除" in swept.output
    assert _objects(hechi, number) == kept | {young}  # the young one may yet be committed
    again = runner.invoke(main, ["cases", "sweep-objects", "--json"])
    assert '"deleted": 0' in again.output  # idempotent


def test_the_workers_sweep_hourly(db: Database, hechi: Desk) -> None:
    from workers.actors import PERIODIC, sweep_orphan_objects
    from workers.broker import broker, is_in_process

    assert (3600.0, sweep_orphan_objects) in PERIODIC
    assert is_in_process()
    number = hechi.apply(hechi.citizen(ZHANG), ITEM, submit=False)
    old = _orphan(hechi, number)
    _age(old, 2)
    broker.flush_all()
    worker = Worker(broker, worker_timeout=100)
    worker.start()
    try:
        sweep_orphan_objects.send()
        broker.join(sweep_orphan_objects.queue_name)
        worker.join()
    finally:
        worker.stop()
    assert old not in _objects(hechi, number)


def test_the_sweep_lists_and_deletes_in_s3(db: Database, hechi: Desk, s3_server, monkeypatch):
    import boto3

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    bucket = "govhall-" + uuid.uuid4().hex[:8]
    boto3.client("s3", endpoint_url=s3_server.url).create_bucket(Bucket=bucket)
    local = get_storage()
    reset_storage(S3Storage(bucket, s3_server.url))
    try:
        number = hechi.apply(hechi.citizen(ZHANG), ITEM, submit=False)
        named = _keys(hechi, number)
        lost = _orphan(hechi, number)
        listed = {o.key: o for o in get_storage().list("t/")}
        assert named | {lost} <= set(listed) and listed[lost].modified is not None
        report = sweep(db, older_than=timedelta(0))
        assert report.deleted >= 1 and lost not in _objects(hechi, number)
        assert _objects(hechi, number) == named
    finally:
        reset_storage(local)

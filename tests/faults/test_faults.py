"""Faults: PostgreSQL restarted under the running app (it recovers by itself); object
storage unreachable during an upload (a clear error and no half-made record); an SMS relay
that dies between the vendor's answer and its commit (the message goes again with the same
id, so the vendor keeps it once — nothing lost)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from core.cases.materials import IncomingFile, attach_upload
from core.cases.models import CaseMaterial
from core.cases.service import commit
from core.db import PLATFORM
from core.errors import GovhallError
from core.notify import SendResult
from core.notify.outbox import OutboxMessage, enqueue_sms
from core.notify.relay import deliver
from core.plugins import PluginMeta, get_plugin_manager, hookimpl
from core.storage import reset_storage
from core.storage.s3 import S3Storage
from tests.cases.conftest import Desk
from tests.servers import S3Server

ZHANG = "13800000001"


@pytest.mark.postgres
def test_the_app_recovers_from_a_postgresql_restart(client, db, backend, request) -> None:
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    assert client.get("/api/v1/t/hechi/items?q=社保").status_code == 200
    request.getfixturevalue("pg_server").restart()  # every pooled connection is now dead
    for _ in range(3):  # no restart of the app: the pool notices and reconnects
        assert client.get("/api/v1/t/hechi/items?q=社保").status_code == 200


def test_an_upload_while_storage_is_unreachable_fails_cleanly(db, monkeypatch) -> None:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    hechi = Desk(db, "hechi")
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SC03", submit=False)
    s3 = S3Server().start()
    bucket = "govhall-" + uuid.uuid4().hex[:8]
    boto3.client("s3", endpoint_url=s3.url).create_bucket(Bucket=bucket)
    reset_storage(S3Storage(bucket, s3.url))
    s3.stop()  # the storage service goes away
    case = hechi.case(number)
    with hechi.session() as s:
        before = s.scalar(
            select(func.count()).select_from(CaseMaterial).where(CaseMaterial.case_id == case.id)
        )
    incoming = IncomingFile("身份证.pdf")
    incoming.write(b"%PDF-1.4 " + b"0" * 5000)
    incoming.finish()
    with hechi.session() as s, pytest.raises(GovhallError) as failed:
        attach_upload(s, hechi.tenant, hechi.citizen(ZHANG), number, 0, incoming)
        commit(s)
    assert "存储" in failed.value.detail  # said plainly
    with hechi.session() as s:
        after = s.scalar(
            select(func.count()).select_from(CaseMaterial).where(CaseMaterial.case_id == case.id)
        )
    assert after == before  # no half-made record


class Flaky:
    """A vendor that keeps what it receives by our id (as real gateways do with an
    out-id), whose first answer never reaches us: the relay dies before committing."""

    meta = PluginMeta(name="test_flaky_vendor", version="1.0", title="测试短信")

    def __init__(self) -> None:
        self.kept: dict[str, int] = {}
        self.crash = True
        outer = self

        class Vendor:
            name, priority = "flaky", 100

            def send(self, message):
                outer.kept[message.id] = outer.kept.get(message.id, 0) + 1
                if outer.crash:
                    outer.crash = False
                    raise KeyboardInterrupt  # the worker is killed mid-send
                return SendResult(ok=True, vendor_ref=message.id)

        self.vendor = Vendor()

    @hookimpl
    def register_sms_vendors(self):
        return [self.vendor]


def test_a_relay_killed_mid_send_loses_nothing(db) -> None:
    hechi = Desk(db, "hechi")
    manager, plugin = get_plugin_manager(), Flaky()
    manager.register(plugin)
    try:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "test_flaky_vendor", True)
            row = enqueue_sms(s, hechi.tenant, ZHANG, "otp", {"code": "123456", "minutes": 5})
            s.commit()
            row_id = row.id
        with hechi.db.session(scope=PLATFORM) as s, pytest.raises(KeyboardInterrupt):
            deliver(s, row_id)  # dies: the session closes without committing
        with hechi.session() as s:
            assert s.get(OutboxMessage, (hechi.tenant.id, row_id)).state == "created"  # not lost
        with hechi.db.session(scope=PLATFORM) as s:
            assert deliver(s, row_id) == "sent"  # the relay sweep picks it up again
            s.commit()
        with hechi.db.session(scope=PLATFORM) as s:
            assert deliver(s, row_id) == "skipped"  # and never again
        # the vendor saw our id twice and keeps one message: the reference is the dedupe key
        assert plugin.kept == {str(row_id): 2}
        with hechi.session() as s:
            sent = s.get(OutboxMessage, (hechi.tenant.id, row_id))
            assert (sent.state, sent.vendor_ref) == ("sent", str(row_id))
    finally:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "test_flaky_vendor", False)
            s.commit()
        manager.unregister("test_flaky_vendor")

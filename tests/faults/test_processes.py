"""Faults in the production layout, with real processes: `govhall serve`, `govhall worker` and
`govhall scheduler` on PostgreSQL and Redis, sending SMS to the cloud vendor's loopback fake.

- Redis down for a minute (``GOVHALL_FAULT_REDIS_DOWN_SECONDS``, default 60): citizens keep
  submitting; their SMS wait in the outbox and go out once Redis is back, each once.
- A worker killed (SIGKILL) while the vendor is still answering: a new worker sends everything;
  the vendor keeps one message per outbox id, so no phone gets one twice."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.notify.outbox import OutboxMessage
from core.notify.sms import DEFAULT_TEMPLATES
from core.plugins import get_plugin_manager
from tests.cases.conftest import Desk
from tests.fakes import CloudSms
from tests.helpers import account_token, bearer
from tests.servers import RedisServer, free_port, wait_for

pytestmark = [pytest.mark.parametrize("backend", ["postgres"], indirect=True), pytest.mark.redis]

CITIZEN = "13800000001"
PDF = b"%PDF-1.4\n" + b"0" * 200
DOWN_SECONDS = float(os.environ.get("GOVHALL_FAULT_REDIS_DOWN_SECONDS", "60"))
GOVHALL = str(Path(sys.executable).parent / "govhall")


class Process:
    """One `govhall …` command in its own process, its output in a log file."""

    def __init__(
        self, args: list[str], env: dict[str, str], log: Path, command: str = GOVHALL
    ) -> None:
        self.args, self.env, self.log, self.command = args, env, log, command
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [self.command, *self.args], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class Hall:
    """A running installation: web, worker and scheduler processes around one database."""

    def __init__(self, db: Any, tmp: Path, redis: RedisServer, cloud: CloudSms) -> None:
        self.db, self.tmp, self.redis, self.cloud = db, tmp, redis, cloud
        self.port = free_port()
        self.env = {
            **os.environ,
            "GOVHALL_DATABASE_URL": db.url,
            "GOVHALL_REDIS_URL": redis.url,
            "GOVHALL_VAR_DIR": str(tmp),
            "GOVHALL_STORAGE_URL": f"file://{tmp / 'objects'}",
        }
        self.web = Process(
            ["serve", "--host", "127.0.0.1", "--port", str(self.port)], self.env, tmp / "web.log"
        )
        self.workers = [self.new_worker()]
        self.scheduler = Process(["scheduler"], self.env, tmp / "scheduler.log")
        self.token = account_token(db, "hechi", CITIZEN)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def new_worker(self) -> Process:
        n = len(getattr(self, "workers", []))
        return Process(["worker", "--threads", "2"], self.env, self.tmp / f"worker-{n}.log")

    def start(self) -> Hall:
        self.web.start()
        self.workers[0].start()
        self.scheduler.start()
        wait_for(self._up, what="govhall serve")
        return self

    def _up(self) -> bool:
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.http.close()
        for process in (self.web, self.scheduler, *self.workers):
            process.stop()

    def submit(self) -> str:
        """A citizen applies for 就业创业证 through the web process: create, upload, submit."""
        auth = bearer(self.token)
        case = self.http.post("/api/v1/t/hechi/cases", json={"item": "HC-SB05"}, headers=auth)
        assert case.status_code == 201, case.text
        number = case.json()["number"]
        item = self.http.get("/api/v1/t/hechi/items/HC-SB05").json()
        for index in range(len(item["content"]["materials"])):
            uploaded = self.http.post(
                f"/api/v1/t/hechi/cases/{number}/materials",
                files={"file": ("a.pdf", io.BytesIO(PDF), "application/pdf")},
                data={"index": str(index)},
                headers=auth,
            )
            assert uploaded.status_code == 201, uploaded.text
        submitted = self.http.post(f"/api/v1/t/hechi/cases/{number}/submit", headers=auth)
        assert submitted.status_code == 200, submitted.text
        return number

    def outbox(self, numbers: list[str]) -> list[OutboxMessage]:
        from core.cases.models import Case

        desk = Desk(self.db, "hechi")
        with desk.session() as s:
            rows = list(
                s.scalars(
                    select(OutboxMessage)
                    .join(Case, Case.id == OutboxMessage.case_id)
                    .where(Case.number.in_(numbers), OutboxMessage.channel == "sms")
                )
            )
            for row in rows:
                s.expunge(row)
        return rows

    def delivered(self, numbers: list[str]) -> bool:
        rows = self.outbox(numbers)
        return bool(rows) and all(r.state == "sent" for r in rows)


@pytest.fixture
def hall(db, tmp_path) -> Iterator[Hall]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (make system-deps)")
    redis, cloud = RedisServer().start(), CloudSms().start()
    desk, manager = Desk(db, "hechi"), get_plugin_manager()
    config = {
        "endpoint": cloud.url,
        "access_key_id": cloud.key,
        "access_key_secret": cloud.secret,
        "template_codes": {name: f"SMS_{i:04d}" for i, name in enumerate(DEFAULT_TEMPLATES)},
        "timeout_seconds": 15,
    }
    with desk.session() as s:
        manager.set_enabled(s, desk.tenant, "sms_console", False)
        manager.set_enabled(s, desk.tenant, "sms_cloud", True, config)
        s.commit()
    hall = Hall(db, tmp_path, redis, cloud).start()
    yield hall
    hall.stop()
    with desk.session() as s:
        manager.set_enabled(s, desk.tenant, "sms_cloud", False, {})
        manager.set_enabled(s, desk.tenant, "sms_console", True)
        s.commit()
    cloud.stop()
    redis.stop()


def test_with_redis_down_submissions_succeed_and_the_sms_go_out_after(hall: Hall) -> None:
    # a development start with no GOVHALL_BASE_URL names the address it answers on
    issuer = hall.http.get("/.well-known/openid-configuration").json()["issuer"]
    assert issuer == f"http://127.0.0.1:{hall.port}"
    before = hall.submit()  # with Redis up: the SMS goes out at once, through the worker
    wait_for(lambda: hall.delivered([before]), timeout=30, what="the first SMS")
    hall.redis.stop()
    numbers, slowest, until = [], 0.0, time.monotonic() + DOWN_SECONDS
    while time.monotonic() < until:
        started = time.monotonic()
        numbers.append(hall.submit())  # each step answers 2xx: the assertions are in submit()
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(min(5.0, max(0.0, until - time.monotonic())))
    assert len(numbers) >= 2 and slowest < 10, (len(numbers), slowest)
    waiting = hall.outbox(numbers)
    assert len(waiting) >= len(numbers) and all(r.state == "created" for r in waiting)
    assert not set(map(str, (r.id for r in waiting))) & set(hall.cloud.kept)
    hall.redis.start()  # back on the same port: the scheduler's sweep sends what waited
    wait_for(lambda: hall.delivered(numbers), timeout=150, what="the waiting SMS")
    ids = [str(r.id) for r in hall.outbox(numbers)]
    assert set(ids) <= set(hall.cloud.kept)
    sends = [m["out_id"] for m in hall.cloud.received if m["out_id"] in ids]
    assert sorted(sends) == sorted(ids)  # every one once: none lost, none twice


def test_a_worker_killed_mid_send_loses_nothing_and_no_phone_gets_two(hall: Hall) -> None:
    hall.cloud.delay = 4.0  # the vendor is slow to answer: sends are in flight for a while
    numbers = [hall.submit() for _ in range(4)]
    wait_for(lambda: hall.cloud.in_flight > 0, timeout=30, what="a send in flight")
    hall.workers[0].kill()  # SIGKILL: no clean-up, no acknowledgement, no commit
    in_flight = [m["out_id"] for m in hall.cloud.received]
    assert in_flight, "nothing was being sent when the worker died"
    hall.cloud.delay = 0.0
    hall.workers.append(hall.new_worker().start())
    wait_for(lambda: hall.delivered(numbers), timeout=150, what="every SMS after the kill")
    ids = {str(r.id) for r in hall.outbox(numbers)}
    assert len(ids) >= len(numbers)
    assert ids <= set(hall.cloud.kept)  # none lost
    # The sends cut off by the kill went again under the same id; the vendor kept one each.
    phones = [m for out_id, m in hall.cloud.kept.items() if out_id in ids]
    assert len(phones) == len(ids)

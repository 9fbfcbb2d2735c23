"""Workers: actors on the in-process broker, the Redis broker for real, and the scheduler's
single leader."""

from __future__ import annotations

from datetime import timedelta

import dramatiq
import pytest
from dramatiq import Worker
from sqlalchemy import func, select

from core.db import Database, blind_index, new_id, utcnow
from core.identity.models import OneTimeCode
from core.tenancy import scope_for
from tests.helpers import tenant
from tests.servers import RedisServer
from workers.actors import purge_expired
from workers.broker import broker, is_in_process, make_broker
from workers.scheduler import LeaderLock, LocalLock, Scheduler


def _codes(db: Database, t) -> int:
    with db.session(scope=scope_for(t)) as session:
        return session.scalar(select(func.count()).select_from(OneTimeCode)) or 0


@pytest.fixture
def stub_worker():
    assert is_in_process()
    broker.flush_all()
    worker = Worker(broker, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


def test_purge_removes_expired_codes_once_and_keeps_live_ones(db: Database, stub_worker) -> None:
    guangxi = tenant(db, "guangxi")
    with db.session(scope=scope_for(guangxi)) as session:
        for days in (3, -1):  # one long expired, one still valid tomorrow
            session.add(
                OneTimeCode(
                    province_id=guangxi.id,
                    id=new_id(),
                    phone_index=blind_index("13900000000"),
                    code_hash="x",
                    expires_at=utcnow() - timedelta(days=days),
                )
            )
        session.commit()
    before = _codes(db, guangxi)
    purge_expired.send()
    purge_expired.send()  # idempotent: the second run finds nothing more
    broker.join(purge_expired.queue_name)
    stub_worker.join()
    assert _codes(db, guangxi) == before - 1


def test_the_scheduler_sends_due_jobs_and_waits_for_the_interval() -> None:
    broker.flush_all()
    now = [1000.0]
    scheduler = Scheduler([(3600.0, purge_expired)], LocalLock(), clock=lambda: now[0])
    assert scheduler.run_once() == 1
    assert scheduler.run_once() == 0
    now[0] += 3601
    assert scheduler.run_once() == 1
    assert broker.queues[purge_expired.queue_name].qsize() == 2
    broker.flush_all()


def test_only_one_scheduler_leads_and_another_takes_over(redis_server: RedisServer) -> None:
    broker.flush_all()
    first = Scheduler([(3600.0, purge_expired)], LeaderLock(redis_server.url, ttl_seconds=30))
    second = Scheduler([(3600.0, purge_expired)], LeaderLock(redis_server.url, ttl_seconds=30))
    first.run_once()
    second.run_once()
    assert (first.leading, second.leading) == (True, False)
    assert broker.queues[purge_expired.queue_name].qsize() == 1
    first.lock.release()  # the leader stops
    second.run_once()
    assert second.leading
    broker.flush_all()


def test_a_scheduler_without_redis_leads_nobody(tmp_path) -> None:
    dead = RedisServer()  # never started: nothing listens on its port
    scheduler = Scheduler([(3600.0, purge_expired)], LeaderLock(dead.url, ttl_seconds=30))
    assert scheduler.run_once() == 0 and not scheduler.leading


def test_the_redis_broker_delivers_messages(redis_server: RedisServer) -> None:
    redis_broker = make_broker(redis_server.url)
    seen: list[int] = []

    @dramatiq.actor(broker=redis_broker, queue_name="roundtrip", max_retries=0)
    def record(value: int) -> None:
        seen.append(value)

    worker = Worker(redis_broker, worker_timeout=100)
    worker.start()
    try:
        for value in range(5):
            record.send(value)
        redis_broker.join("roundtrip", timeout=10_000)
        worker.join()
    finally:
        worker.stop()
        redis_broker.close()
    assert sorted(seen) == [0, 1, 2, 3, 4]

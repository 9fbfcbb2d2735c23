"""Resident memory of the real processes, against bare ones measured in the same run:

- ``govhall serve`` after serving a mix of pages and API calls (portal, guide, search, the
  workbench, the dashboard) against a bare Litestar hello-world app under the same uvicorn,
  after as many requests;
- ``govhall worker`` after relaying SMS rows and running the deadline sweep and the
  dashboards against a bare Dramatiq worker (same broker, same threads) that ran as many
  no-op messages.

Both are read from ``/proc/<pid>/status`` (``VmRSS``), in MB. Each process uses Redis, as in
production (``govhall serve`` without Redis would also carry the in-process worker)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.servers import RedisServer, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
GOVHALL = str(Path(sys.executable).parent / "govhall")
REQUESTS = int(os.environ.get("GOVHALL_BENCH_REQUESTS", "400"))
MESSAGES = int(os.environ.get("GOVHALL_BENCH_MEMORY_MESSAGES", "500"))

Row = tuple[str, str, float, float, str]

BARE_WEB = textwrap.dedent(
    """
    import sys, uvicorn
    from litestar import Litestar, get

    @get("/hello", sync_to_thread=False)
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    uvicorn.run(Litestar(route_handlers=[hello]), host="127.0.0.1", port=int(sys.argv[1]),
                log_level="warning")
    """
)

BARE_WORKER = textwrap.dedent(
    """
    import sys, threading, dramatiq
    from dramatiq import Worker
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=sys.argv[1])
    dramatiq.set_broker(broker)

    @dramatiq.actor(queue_name="bench_noop", actor_name="noop")
    def noop(value):
        pass

    Worker(broker, worker_threads=2).start()
    print("ready", flush=True)
    threading.Event().wait()
    """
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _serving(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    return check


def _installation(tmp: Path, redis: RedisServer) -> dict[str, str]:
    """A SQLite database with the Guangxi and Hechi packs, and the environment to use it."""
    env = {
        **os.environ,
        "GOVHALL_DATABASE_URL": f"sqlite:///{tmp / 'govhall.sqlite3'}",
        "GOVHALL_VAR_DIR": str(tmp),
        "GOVHALL_STORAGE_URL": f"file://{tmp / 'objects'}",
        "GOVHALL_REDIS_URL": redis.url,
    }
    for args in (["db", "upgrade"], ["tenants", "apply", str(ROOT / "tenants")]):
        subprocess.run([GOVHALL, *args], env=env, check=True, capture_output=True)
    return env


def _web_mix(base: str) -> list[str]:
    paths = [
        "/t/hechi/",
        "/t/hechi/items/HC-SC03",
        "/t/hechi/items?q=社保",
        "/api/v1/t/hechi/items?q=户口",
        "/t/hechi/stats",
        "/t/bozhou/",
    ]
    return [base + p for p in paths]


def _signed_in(client: httpx.Client, base: str) -> None:
    from tests.helpers import csrf_token

    token = csrf_token(client, f"{base}/t/hechi/staff/login")
    client.post(
        f"{base}/t/hechi/staff/login",
        data={"username": "hechi-supervisor", "password": "Demo-2026", "_csrf_token": token},
    )


def memory_benchmarks() -> list[Row]:
    tmp = Path(tempfile.mkdtemp(prefix="govhall-bench-memory-"))
    redis = RedisServer().start()
    rows: list[Row] = []
    try:
        env = _installation(tmp, redis)

        # -- web ---------------------------------------------------------------------------
        port, bare_port = free_port(), free_port()
        web = _spawn([GOVHALL, "serve", "--port", str(port)], env, tmp / "web.log")
        bare = _spawn([sys.executable, "-c", BARE_WEB, str(bare_port)], env, tmp / "bare.log")
        try:
            base, bare_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}/hello"
            wait_for(_serving(base + "/healthz"), what="govhall serve")
            wait_for(_serving(bare_url), what="bare litestar")
            with httpx.Client(timeout=30) as client:
                _signed_in(client, base)
                staff = [f"{base}/t/hechi/workbench", f"{base}/t/hechi/supervision/dashboard"]
                urls = _web_mix(base) + staff
                for n in range(REQUESTS):
                    answer = client.get(urls[n % len(urls)])
                    assert answer.status_code == 200, (answer.url, answer.status_code)
                for _ in range(REQUESTS):
                    assert client.get(bare_url).status_code == 200
            time.sleep(1)
            rows.append(
                (
                    f"web process resident memory (MB) after {REQUESTS} requests",
                    "bare Litestar app under uvicorn",
                    rss_mb(web.pid),
                    rss_mb(bare.pid),
                    "≥ 0.2",
                )
            )
        finally:
            _stop(web)
            _stop(bare)

        # -- worker ------------------------------------------------------------------------
        worker = _spawn([GOVHALL, "worker", "--threads", "2"], env, tmp / "worker.log")
        bare_worker = _spawn(
            [sys.executable, "-c", BARE_WORKER, redis.url], env, tmp / "bare-worker.log"
        )
        try:
            _worker_load(env, redis.url, tmp)
            rows.append(
                (
                    f"worker resident memory (MB) after {MESSAGES} SMS, a sweep, dashboards",
                    "bare Dramatiq worker, no-op actor",
                    rss_mb(worker.pid),
                    rss_mb(bare_worker.pid),
                    "≥ 0.2",
                )
            )
        finally:
            _stop(worker)
            _stop(bare_worker)
    finally:
        redis.stop()
    return rows


def _worker_load(env: dict[str, str], redis_url: str, tmp: Path) -> None:
    """Queue SMS rows in the database and the periodic jobs on the broker, as the web
    processes and the scheduler would; the same number of no-op messages for the baseline."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    script = textwrap.dedent(
        f"""
        from core.db import get_database
        from core.notify.outbox import enqueue_sms
        from core.tenancy import get_tenant_by_slug, scope_for
        db = get_database()
        with db.session(scope=None) as s:
            hechi = get_tenant_by_slug(s, "hechi")
        with db.session(scope=scope_for(hechi)) as s:
            for n in range({MESSAGES}):
                enqueue_sms(s, hechi, "13800000001", "otp", {{"code": f"{{n:06d}}", "minutes": 5}})
            s.commit()
        """
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, cwd=ROOT)
    ours = RedisBroker(url=redis_url, namespace="govhall")  # as workers.broker names it
    bare = RedisBroker(url=redis_url)
    try:
        for actor, queue in (
            ("relay_pending", "notify"),
            ("sweep_deadlines", "supervision"),
            ("update_dashboards", "supervision"),
        ):
            ours.enqueue(dramatiq.Message(queue, actor, (), {}, {}))
        for n in range(MESSAGES):
            bare.enqueue(dramatiq.Message("bench_noop", "noop", (n,), {}, {}))
        waiting = (("govhall", "notify"), ("govhall", "supervision"), ("dramatiq", "bench_noop"))
        wait_for(lambda: _drained(ours, waiting), timeout=600, what="the queues")
        time.sleep(2)  # the last messages finish after they leave the queue
    finally:
        ours.close()
        bare.close()
    sent = (tmp / "sms-outbox.jsonl").read_text(encoding="utf-8").count("\n")
    assert sent >= MESSAGES, f"the worker sent {sent} of {MESSAGES} SMS (see {tmp}/worker.log)"


def _drained(broker: Any, queues: tuple[tuple[str, str], ...]) -> bool:
    client = broker.client
    waiting = sum(client.llen(f"{ns}:{q}") for ns, q in queues)
    # messages taken by a worker but not yet acknowledged
    taken = sum(client.scard(k) for ns, _ in queues for k in client.scan_iter(f"{ns}:__acks__*"))
    return waiting == 0 and taken == 0

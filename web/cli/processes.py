"""Long-running processes: serve, worker, scheduler."""

from __future__ import annotations

import os
import signal
import threading

import click

from core.config import get_settings, reset_settings
from core.db import get_database
from web.cli._base import _fail, _tenant, log, main  # noqa: F401

# -- processes ------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--demo", is_flag=True, help="Print the demo portals and sign-ins first.")
def serve(host: str, port: int, demo: bool) -> None:
    """Serve the web application (with the in-process worker when no Redis is set)."""
    import uvicorn

    from web.app import create_app
    from workers import broker as broker_module

    if not os.environ.get("GOVHALL_BASE_URL") and not get_settings().is_production:
        # development: the address this server really answers on (the OIDC issuer and
        # discovery name it); production always sets GOVHALL_BASE_URL (https)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        os.environ["GOVHALL_BASE_URL"] = f"http://{shown}:{port}"
        reset_settings()
    if broker_module.is_in_process():
        _start_in_process_workers()
    if demo:
        _print_demo(host, port)
    uvicorn.run(create_app(), host=host, port=port, log_level="info", proxy_headers=False)


def _start_in_process_workers() -> None:
    from dramatiq import Worker

    from workers.actors import PERIODIC
    from workers.broker import broker
    from workers.scheduler import LocalLock, Scheduler

    worker = Worker(broker, worker_threads=2)
    worker.start()
    Scheduler(PERIODIC, LocalLock()).start_thread()
    log.info("in-process broker, worker and scheduler started")


def _print_demo(host: str, port: int) -> None:
    from core.tenancy import TenantKind, list_tenants

    with get_database().session(scope=None) as session:
        rows = [t for t in list_tenants(session) if t.kind is not TenantKind.province]
    base = f"http://{host}:{port}"
    click.echo("\n govhall 演示 / demo\n")
    click.echo(f"  平台首页  {base}/")
    for t in rows:
        click.echo(f"  {t.name:<8} {base}/t/{t.slug}/")
    click.echo("\n  演示账号 (demo sign-ins), 密码 password: Demo-2026")
    click.echo("  工作人员 staff   /t/<slug>/staff/login: <slug>-admin -clerk -reviewer -approver")
    click.echo("                   -issuer -supervisor -agent -township  (e.g. hechi-clerk)")
    click.echo("  省级管理员       /t/<province>/staff/login: guangxi-admin, anhui-admin, ...")
    click.echo("  群众 citizens    /t/<slug>/login: 短信验证码 (SMS code, written to the log and")
    click.echo("                   var/sms-outbox.jsonl), or phone + password from")
    click.echo("                   tenants/<province>/people.toml\n")


@main.command()
@click.option("--threads", default=4, show_default=True)
def worker(threads: int) -> None:
    """Run a Dramatiq worker on the Redis broker."""
    from dramatiq import Worker

    import workers.actors  # noqa: F401 - registers the actors
    from workers.broker import broker, is_in_process

    if is_in_process():
        _fail("GOVHALL_REDIS_URL is not set: the embedded worker runs inside `govhall serve`")
    w = Worker(broker, worker_threads=threads)
    w.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo(f"worker started ({threads} threads)")
    stop.wait()
    w.stop()


@main.command()
def scheduler() -> None:
    """Run the scheduler; with several running, one leads (Redis lock)."""
    from workers.actors import PERIODIC
    from workers.scheduler import LeaderLock, Scheduler

    settings = get_settings()
    if not settings.redis_url:
        _fail("GOVHALL_REDIS_URL is not set: the embedded scheduler runs inside `govhall serve`")
    sched = Scheduler(PERIODIC, LeaderLock(settings.redis_url, ttl_seconds=30))
    signal.signal(signal.SIGTERM, lambda *_: sched.stop())
    signal.signal(signal.SIGINT, lambda *_: sched.stop())
    sched.run_forever()

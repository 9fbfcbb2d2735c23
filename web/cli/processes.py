"""Long-running processes: serve, worker, scheduler."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import threading
import time
import tracemalloc
from pathlib import Path

import click

from core.config import get_settings, reset_settings
from core.db import get_database
from web.cli._base import _fail, _tenant, log, main  # noqa: F401

# -- processes ------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听的地址。")
@click.option("--port", default=8000, show_default=True, help="监听的端口。")
@click.option(
    "--demo",
    is_flag=True,
    help=(
        "开发演示：升级数据库，尚无地区时载入演示租户包（源码目录的 tenants/），"
        "并列出演示门户和账号。"
    ),
)
def serve(host: str, port: int, demo: bool) -> None:
    """运行网站（未配置 Redis 时，后台任务和定时任务在同一进程内运行）。"""
    import uvicorn

    from web.app import create_app
    from workers import broker as broker_module

    if not os.environ.get("GOVHALL_BASE_URL") and not get_settings().is_production:
        # development: the address this server really answers on (the OIDC issuer and
        # discovery name it); production always sets GOVHALL_BASE_URL (https)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        os.environ["GOVHALL_BASE_URL"] = f"http://{shown}:{port}"
        reset_settings()
    _limit_malloc_arenas()
    if broker_module.is_in_process():
        _start_in_process_workers()
    if demo:
        _prepare_demo()
        _print_demo(host, port)
    if tracemalloc.is_tracing():  # PYTHONTRACEMALLOC=1: what grows, for finding a leak
        threading.Thread(target=_log_growth, name="tracemalloc", daemon=True).start()
    uvicorn.run(create_app(), host=host, port=port, log_level="info", proxy_headers=False)


#: glibc's malloc arenas a web process may use: by default up to eight per core, one taken by
#: each new thread (the request threads, boto3's, psycopg's), each keeping its freed memory;
#: two hold the process flat under load (docs/performance.md, "Memory")
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def _limit_malloc_arenas() -> None:
    """``MALLOC_ARENA_MAX=2`` for this process, unless the environment sets it (glibc reads
    the variable only at start, so ``mallopt`` sets it now, before the server's threads)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        if libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS) != 1:
            log.warning("could not limit malloc arenas")
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to limit
        pass


def _log_growth(interval: float = 30.0, top: int = 15) -> None:
    """Every ``interval`` seconds, the lines whose allocations grew most since the last look."""
    last = tracemalloc.take_snapshot()
    while True:
        time.sleep(interval)
        now = tracemalloc.take_snapshot()
        current, _peak = tracemalloc.get_traced_memory()
        lines = [f"tracemalloc: {current / 1_048_576:.1f} MB traced; grew most since last:"]
        lines += [f"  {diff}" for diff in now.compare_to(last, "lineno")[:top]]
        held: dict[str, int] = {}
        for stat in now.statistics("filename"):
            path = stat.traceback[0].filename
            package = path.split("site-packages/")[-1].split("/")[0] if "site-" in path else path
            held[package] = held.get(package, 0) + stat.size
        lines.append("held most, by package (MB):")
        for package, size in sorted(held.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"  {size / 1_048_576:7.1f}  {package}")
        log.warning("\n".join(lines))
        last = now


def _start_in_process_workers() -> None:
    from dramatiq import Worker

    from workers.actors import PERIODIC
    from workers.broker import broker
    from workers.scheduler import LocalLock, Scheduler

    worker = Worker(broker, worker_threads=2)
    worker.start()
    Scheduler(PERIODIC, LocalLock()).start_thread()
    log.info("in-process broker, worker and scheduler started")


#: the demo tenant packs, in a source checkout (an installed wheel has none)
DEMO_PACKS = Path(__file__).resolve().parents[2] / "tenants"


def _prepare_demo() -> None:
    """``serve --demo`` on a fresh database: migrated, and the demo tenants loaded when there
    is no county yet (an installation that has its own is left as it is)."""
    from core.db import PLATFORM
    from core.db.migrate import upgrade
    from core.packs import apply_packs, load_packs
    from core.tenancy import TenantKind, list_tenants

    if get_settings().is_production:
        _fail("--demo 仅用于开发和演示，生产环境（GOVHALL_ENV=production）不可使用")
    upgrade(get_settings().resolved_database_url)
    with get_database().session(scope=None) as session:
        if any(t.kind is not TenantKind.province for t in list_tenants(session)):
            return
    if not (DEMO_PACKS / "guangxi").is_dir():
        click.echo(f"未找到演示租户包（{DEMO_PACKS}）：请用 govhall tenants apply <目录> 载入地区")
        return
    click.echo(f"数据库中还没有地区：载入演示租户包 {DEMO_PACKS} …")
    with get_database().session(scope=PLATFORM) as session:
        report = apply_packs(session, load_packs(DEMO_PACKS))
        session.commit()
    click.echo(f"已载入演示地区：{'、'.join(report.created)}")


def _print_demo(host: str, port: int) -> None:
    from core.tenancy import TenantKind, list_tenants

    with get_database().session(scope=None) as session:
        rows = [t for t in list_tenants(session) if t.kind is not TenantKind.province]
    outbox = Path(get_settings().var_dir) / "sms-outbox.jsonl"
    base = f"http://{host}:{port}"
    click.echo("\n govhall 演示\n")
    click.echo(f"  平台首页  {base}/")
    for t in rows:
        click.echo(f"  {t.name:<8} {base}/t/{t.slug}/")
    click.echo("\n  演示账号，密码均为 Demo-2026")
    click.echo("  工作人员    /t/<地区>/staff/login：<地区>-admin -clerk -reviewer -approver")
    click.echo("              -issuer -supervisor -agent -township（如 hechi-clerk）")
    click.echo("  省级管理员  /t/<省>/staff/login：guangxi-admin、anhui-admin 等")
    click.echo(f"  群众        /t/<地区>/login：短信验证码（写在日志和 {outbox} 中），")
    click.echo("              或 tenants/<省>/people.toml 中的手机号和密码\n")


@main.command()
@click.option("--threads", default=4, show_default=True, help="工作线程数。")
def worker(threads: int) -> None:
    """运行后台任务进程（需要 Redis）。"""
    from dramatiq import Worker

    import workers.actors  # noqa: F401 - registers the actors
    from workers.broker import broker, is_in_process

    if is_in_process():
        _fail("未设置 GOVHALL_REDIS_URL：后台任务已在 govhall serve 进程内运行")
    w = Worker(broker, worker_threads=threads)
    w.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo(f"后台任务进程已启动（{threads} 个线程）")
    stop.wait()
    w.stop()


@main.command()
def scheduler() -> None:
    """运行定时任务；同时运行多个时，只有一个在执行（用 Redis 锁选出）。"""
    from workers.actors import PERIODIC
    from workers.scheduler import LeaderLock, Scheduler

    settings = get_settings()
    if not settings.redis_url:
        _fail("未设置 GOVHALL_REDIS_URL：定时任务已在 govhall serve 进程内运行")
    sched = Scheduler(PERIODIC, LeaderLock(settings.redis_url, ttl_seconds=30))
    signal.signal(signal.SIGTERM, lambda *_: sched.stop())
    signal.signal(signal.SIGINT, lambda *_: sched.stop())
    sched.run_forever()

"""Catalog over a 50,000-item province catalog: the item page (its guide kept, and a repeat
view answered 304), the kept checklist PDF and a two-character search, against a bare
Litestar hello-world route served the same way."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar, get
from litestar.testing import TestClient
from sqlalchemy import func, select

from core.catalog.models import ItemTerm
from core.config import reset_settings
from core.db import PLATFORM, Database, reset_database
from core.db.migrate import upgrade
from core.packs import apply_packs, load_packs
from core.tenancy import get_tenant_by_slug, scope_for
from tests.benchmarks.generate import generate_catalog

ROOT = Path(__file__).resolve().parents[2]
ITEMS = 50_000


@get("/hello", sync_to_thread=False)
async def hello() -> str:
    return "hello"


def _database(backend: str) -> tuple[Database, Any]:
    if backend == "sqlite":
        url = f"sqlite:///{Path(__import__('os').environ['GOVHALL_VAR_DIR'])}/bench.sqlite3"
        return Database(url), None
    from tests.servers import PostgresServer

    server = PostgresServer().start()
    return Database(server.create_database("bench_" + uuid.uuid4().hex[:8])), server


def catalog_benchmarks(
    backend: str, rate: Callable[[Callable[[], object]], float]
) -> list[tuple[str, str, float, float, str]]:
    from web.app import create_app

    reset_settings()
    database, server = _database(backend)
    try:
        upgrade(database.url.replace("postgresql+psycopg", "postgresql+psycopg"))
        reset_database(database)
        with database.session(scope=PLATFORM) as session:
            apply_packs(session, load_packs(ROOT / "tenants" / "guangxi"))
            apply_packs(session, load_packs(ROOT / "tenants" / "hechi"))
            session.commit()
        with database.session(scope=None) as s:
            hechi = get_tenant_by_slug(s, "hechi")
        started = time.perf_counter()
        with database.session(scope=scope_for(hechi)) as session:
            generate_catalog(
                session,
                hechi,
                ITEMS,
                commit_batches=True,
                progress=lambda n: print(f"  {n:,}", end="\r", flush=True),
            )
            session.commit()
        print(
            f"[{backend}] generated {ITEMS:,} items in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
        if backend == "postgres":
            with database.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        with database.session(scope=scope_for(hechi)) as session:
            # The 500 commonest two-character terms, each searched once: no search is served
            # from the few seconds' memory of a repeated one (core/db/_memo.py).
            terms = list(
                session.scalars(
                    select(ItemTerm.term)
                    .where(ItemTerm.tenant_id == hechi.id, func.length(ItemTerm.term) == 2)
                    .group_by(ItemTerm.term)
                    .order_by(func.count().desc(), ItemTerm.term)
                    .limit(500)
                )
            )
        fresh = itertools.cycle(terms)
        bare = TestClient(app=Litestar(route_handlers=[hello]))
        app = TestClient(app=create_app(database=database))
        with bare, app:
            assert app.get("/t/hechi/items/GEN-025000").status_code == 200
            found = app.get("/t/hechi/items", params={"q": "社保"})
            assert found.status_code == 200 and "GEN-" in found.text
            baseline = rate(lambda: bare.get("/hello"))
            # the fixed cost of our own stack (host rewrite, load limit, sessions, CSRF, security
            # headers, a database ping): what every page pays before its own work
            stack = rate(lambda: app.get("/healthz"))
            item_page = rate(lambda: app.get("/t/hechi/items/GEN-025000"))
            # a browser's repeat view: revalidated with the ETag it was given, answered 304
            etag = app.get("/t/hechi/items/GEN-025000").headers["etag"]
            repeat = {"If-None-Match": etag}
            assert app.get("/t/hechi/items/GEN-025000", headers=repeat).status_code == 304
            item_304 = rate(lambda: app.get("/t/hechi/items/GEN-025000", headers=repeat))
            checklist = rate(lambda: app.get("/t/hechi/items/GEN-025000/checklist.pdf"))
            # a signed-out visitor's page is kept for seconds (web/pages/_kept.py): the same
            # page again and again is mostly that; a different item every time never is
            others = (f"/t/hechi/items/GEN-{n:06d}" for n in itertools.count(1000, 7))
            item_first = rate(lambda: app.get(next(others)))
            search = rate(lambda: app.get("/t/hechi/items", params={"q": "社保"}))
            api_search = rate(lambda: app.get("/api/v1/t/hechi/items", params={"q": "户口"}))
            distinct = rate(lambda: app.get("/t/hechi/items", params={"q": next(fresh)}))
    finally:
        database.dispose()
        if server is not None:
            server.stop()
    hello_name = "bare Litestar hello route"
    return [
        (f"[{backend}] /healthz through our middleware", hello_name, stack, baseline, "(none)"),
        (f"[{backend}] item page, 50k catalog", hello_name, item_page, baseline, "≥ 0.33"),
        (
            f"[{backend}] item page, a different item each time (none kept), 50k catalog",
            hello_name,
            item_first,
            baseline,
            "(none)",
        ),
        (
            f"[{backend}] item page, repeat view (304), 50k catalog",
            hello_name,
            item_304,
            baseline,
            "(none)",
        ),
        (
            f"[{backend}] checklist PDF (kept), 50k catalog",
            hello_name,
            checklist,
            baseline,
            "(none)",
        ),
        (f"[{backend}] search 社保 (page), 50k catalog", hello_name, search, baseline, "≥ 0.33"),
        (f"[{backend}] search 户口 (API), 50k catalog", hello_name, api_search, baseline, "≥ 0.33"),
        (
            f"[{backend}] search, a different term each time (page), 50k catalog",
            hello_name,
            distinct,
            baseline,
            "≥ 0.33",
        ),
    ]

"""Catalog import at province scale: a county's 3,410-row power list, then a 53,456-row
catalog, as XLSX through the same code as ``govhall catalog import``; and publishing one item
at 3,410 items against publishing one at 53,456 (the first is the baseline of the second).

The import figures are rows per second, their baseline the 3,410-row import measured in the
same run: a ratio near 1 says the time grows linearly with the rows. The aim for the large
import is absolute as well — five minutes on two cores.
"""

from __future__ import annotations

import io
import os
import random
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from core.catalog import Item, get_item_by_code, publish_item, save_draft
from core.catalog._rows import content_to_cells
from core.catalog.service import categories
from core.catalog.transfer import HEADERS, import_rows, read_rows, write_xlsx
from core.config import reset_settings
from core.db import PLATFORM, Database, reset_database
from core.db.migrate import upgrade
from core.packs import apply_packs, load_packs
from core.tenancy import OrgUnit, OrgUnitKind, Tenant, get_tenant_by_slug, scope_for
from tests.benchmarks.generate import synthetic_content

ROOT = Path(__file__).resolve().parents[2]
LARGE = int(os.environ.get("GOVHALL_BENCH_IMPORT_ROWS", "53456"))
SMALL = 3_410


def _database(backend: str) -> tuple[Database, Any]:
    if backend == "sqlite":
        path = Path(os.environ["GOVHALL_VAR_DIR"]) / f"import-{uuid.uuid4().hex[:6]}.sqlite3"
        return Database(f"sqlite:///{path}"), None
    from tests.servers import PostgresServer

    server = PostgresServer().start()
    return Database(server.create_database("import_" + uuid.uuid4().hex[:8])), server


def _sheet(database: Database, tenant: Tenant, rows: int, prefix: str, note: str = "") -> bytes:
    """A county sheet of ``rows`` detailed items over the tenant's departments, as XLSX;
    ``note`` is appended to every item's contacts (a sheet in which every row changed)."""
    with database.session(scope=scope_for(tenant)) as s:
        departments = sorted(
            s.scalars(
                select(OrgUnit.code).where(
                    OrgUnit.tenant_id == tenant.id, OrgUnit.kind == OrgUnitKind.department
                )
            )
        )
        names = {code: c.name for code, c in categories(s).items()}
    rng = random.Random(rows)
    contacts = HEADERS.index("咨询方式")
    cells = []
    for i in range(rows):
        row = content_to_cells(
            f"{prefix}-{i:06d}", synthetic_content(i, rng, departments, detailed=True), names
        )
        row[contacts] += note
        cells.append(row)
    out = io.BytesIO()
    write_xlsx([HEADERS, *cells], out)
    return out.getvalue()


def _import(database: Database, tenant: Tenant, data: bytes, label: str) -> float:
    started = time.perf_counter()
    sheet = read_rows(data, "catalog.xlsx")
    read = time.perf_counter() - started
    with database.session(scope=scope_for(tenant)) as session:
        report = import_rows(session, tenant, sheet)
        session.commit()
    took = time.perf_counter() - started
    print(
        f"  {label}: {len(sheet.rows):,} rows in {took:.1f}s (reading {read:.1f}s) — "
        f"new {report.created:,}, updated {report.updated:,}, unchanged {report.unchanged:,}",
        flush=True,
    )
    return took


def _publisher(database: Database, tenant: Tenant, code: str) -> Callable[[], None]:
    """Publish a new version of one item (its promised days toggled), one transaction."""
    days = [0]

    def publish() -> None:
        with database.session(scope=scope_for(tenant)) as s:
            item = get_item_by_code(s, tenant, code)
            content = dict(item.effective)
            days[0] = 1 - days[0]
            content["promised_days"] = max(0, min(content["legal_days"], 1 + days[0]))
            save_draft(s, tenant, item, content)
            publish_item(s, tenant, item, reason="基准测试")
            s.commit()

    return publish


def import_benchmarks(
    backend: str, rate: Callable[[Callable[[], object]], float]
) -> list[tuple[str, str, float, float, str]]:
    reset_settings()
    database, server = _database(backend)
    try:
        upgrade(database.url)
        reset_database(database)
        with database.session(scope=PLATFORM) as session:
            for pack in ("guangxi", "hechi", "hunan", "cili"):
                apply_packs(session, load_packs(ROOT / "tenants" / pack))
            session.commit()
        with database.session(scope=None) as s:
            cili, hechi = get_tenant_by_slug(s, "cili"), get_tenant_by_slug(s, "hechi")
        small_sheet = _sheet(database, cili, SMALL, "CL-IMP")
        large_sheet = _sheet(database, hechi, LARGE, "HC-IMP")
        changed_sheet = _sheet(database, hechi, LARGE, "HC-IMP", note="（更新）")
        print(f"[{backend}] import", flush=True)
        small = _import(database, cili, small_sheet, f"{SMALL:,} new rows (cili)")
        publish_small = rate(_publisher(database, cili, "CL-IMP-000007"))
        sizes = [_count(database, cili)]
        large = _import(database, hechi, large_sheet, f"{LARGE:,} new rows (hechi)")
        again = _import(database, hechi, large_sheet, "the same file again")
        changed = _import(database, hechi, changed_sheet, "every row changed")
        publish_large = rate(_publisher(database, hechi, "HC-IMP-000007"))
        sizes.append(_count(database, hechi))
    finally:
        database.dispose()
        if server is not None:
            server.stop()
    base = f"the {SMALL:,}-row import"
    return [
        (
            f"[{backend}] import {LARGE:,} rows, XLSX ({large:.0f} s; rows/s)",
            base,
            LARGE / large,
            SMALL / small,
            "≤ 300 s; ≥ 0.8",
        ),
        (
            f"[{backend}] the same file again, all unchanged ({again:.0f} s; rows/s)",
            base,
            LARGE / again,
            SMALL / small,
            "≤ 300 s",
        ),
        (
            f"[{backend}] every row changed, {LARGE:,} new versions ({changed:.0f} s; rows/s)",
            base,
            LARGE / changed,
            SMALL / small,
            "≤ 300 s",
        ),
        (
            f"[{backend}] publish one item, {sizes[1]:,}-item catalog",
            f"the same at {sizes[0]:,} items",
            publish_large,
            publish_small,
            "≥ 0.5",
        ),
    ]


def _count(database: Database, tenant: Tenant) -> int:
    with database.session(scope=scope_for(tenant)) as s:
        return s.scalar(select(func.count()).select_from(Item)) or 0

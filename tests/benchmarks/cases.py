"""Cases: submitting a case and a staff action (review), each one transaction through the
service layer, against a raw INSERT+COMMIT and a raw three-statement transaction through the
same driver in the same run."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from core.cases.actions import ActionIn, perform
from core.cases.materials import IncomingFile, attach_upload
from core.cases.service import commit, create_case, submit_case
from core.config import reset_settings
from core.db import PLATFORM, reset_database
from core.db.migrate import upgrade
from core.identity import Staff
from core.identity.service import account_principal, find_account_by_phone, staff_principal
from core.packs import apply_packs, load_packs
from core.storage import reset_storage
from core.storage.local import LocalStorage
from core.tenancy import get_tenant_by_slug, scope_for
from tests.benchmarks.catalog import _database

ROOT = Path(__file__).resolve().parents[2]
ITEM = "HC-SB04"  # two materials, the short process, 人社局
CASES = 400


def case_benchmarks(
    backend: str, rate: Callable[..., float]
) -> list[tuple[str, str, float, float, str]]:
    import os

    reset_settings()
    reset_storage(LocalStorage(os.path.join(os.environ["GOVHALL_VAR_DIR"], "objects")))
    database, server = _database(backend)
    try:
        upgrade(database.url)
        reset_database(database)
        with database.session(scope=PLATFORM) as session:
            apply_packs(session, load_packs(ROOT / "tenants" / "guangxi"))
            apply_packs(session, load_packs(ROOT / "tenants" / "hechi"))
            session.commit()
        with database.session(scope=None) as s:
            hechi = get_tenant_by_slug(s, "hechi")
        with database.session(scope=scope_for(hechi)) as s:
            citizen = account_principal(find_account_by_phone(s, hechi.province_id, "13800000001"))
            staff = {
                name: staff_principal(
                    s, hechi, s.scalar(select(Staff).where(Staff.username == name))
                )
                for name in ("hechi-clerk", "hechi-reviewer")
            }

        def draft() -> str:
            with database.session(scope=scope_for(hechi)) as s:
                case, _ = create_case(s, hechi, citizen, ITEM)
                number, count = case.number, len(case.content["materials"])
                commit(s)
            for index in range(count):
                incoming = IncomingFile("m.pdf")
                incoming.write(b"%PDF-1.4 " + b"0" * 2000)
                incoming.finish()
                with database.session(scope=scope_for(hechi)) as s:
                    attach_upload(s, hechi, citizen, number, index, incoming)
                    commit(s)
            return number

        print(f"[{backend}] preparing {CASES} drafts and {CASES} accepted cases", flush=True)
        drafts = [draft() for _ in range(CASES)]
        accepted = [draft() for _ in range(CASES)]
        for number in accepted:
            with database.session(scope=scope_for(hechi)) as s:
                submit_case(s, hechi, citizen, number)
                perform(s, hechi, staff["hechi-clerk"], number, ActionIn(action="accept"))
                commit(s)

        def submit() -> None:
            with database.session(scope=scope_for(hechi)) as s:
                submit_case(s, hechi, citizen, drafts.pop())
                commit(s)

        def review() -> None:
            with database.session(scope=scope_for(hechi)) as s:
                perform(
                    s, hechi, staff["hechi-reviewer"], accepted.pop(), ActionIn(action="review")
                )
                commit(s)

        engine = database.engine
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE bench_raw (id VARCHAR(36) PRIMARY KEY, v INTEGER)")
            conn.commit()

        def raw_insert() -> None:
            with engine.connect() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO bench_raw (id, v) VALUES (%s, 1)"
                    if backend == "postgres"
                    else "INSERT INTO bench_raw (id, v) VALUES (?, 1)",
                    (str(uuid.uuid4()),),
                )
                conn.commit()

        def raw_three() -> None:
            mark = "%s" if backend == "postgres" else "?"
            with engine.connect() as conn:
                a, b = str(uuid.uuid4()), str(uuid.uuid4())
                conn.exec_driver_sql(f"INSERT INTO bench_raw (id, v) VALUES ({mark}, 1)", (a,))
                conn.exec_driver_sql(f"UPDATE bench_raw SET v = 2 WHERE id = {mark}", (a,))
                conn.exec_driver_sql(f"INSERT INTO bench_raw (id, v) VALUES ({mark}, 3)", (b,))
                conn.commit()

        seconds = 2.0
        base_insert = rate(raw_insert, seconds)
        base_three = rate(raw_three, seconds)
        submitted = rate(submit, seconds)
        reviewed = rate(review, seconds)
        return [
            (
                f"[{backend}] submit a case (receipt recorded; its PDF renders on first download)",
                "raw INSERT+COMMIT",
                submitted,
                base_insert,
                "≥ 0.5",
            ),
            (
                f"[{backend}] staff action: review",
                "raw 3-statement transaction",
                reviewed,
                base_three,
                "≥ 0.33",
            ),
        ]
    finally:
        database.dispose()
        if server is not None:
            server.stop()

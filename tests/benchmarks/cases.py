"""Cases: submitting a case and a staff action (review), each one transaction through the
service layer, against hand-written SQL doing the same writes in one transaction through the
same driver in the same run (and, as before, a raw INSERT+COMMIT and a raw three-statement
transaction).

What the service writes was read from the statements it sends (SQL echo): a submission
updates the case, inserts its first open step, a trail event, the receipt notice and two
outbox rows (the applicant's receipt SMS and the text to the staff whose step opened); a
review updates the case, closes its step, opens the next, inserts a trail event and the
text to the next step's staff."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.cases.actions import ActionIn, perform
from core.cases.materials import IncomingFile, attach_upload
from core.cases.service import commit, create_case, submit_case
from core.config import get_settings, reset_settings
from core.db import PLATFORM, reset_database
from core.db.migrate import upgrade
from core.db.rls import sign_scope
from core.effects import install
from core.identity import Staff
from core.identity.service import account_principal, find_account_by_phone, staff_principal
from core.packs import apply_packs, load_packs
from core.storage import reset_storage
from core.storage.local import LocalStorage
from core.tenancy import get_tenant_by_slug, scope_for
from tests.benchmarks.catalog import _database

ROOT = Path(__file__).resolve().parents[2]
ITEM = "HC-SB04"  # two materials, the short process, 人社局
CASES = 1000  # enough drafts for two seconds of submissions at the rates reached


def case_benchmarks(
    backend: str, rate: Callable[..., float]
) -> list[tuple[str, str, float, float, str]]:
    import os

    install()
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

        # the baseline writes to cases of its own (steps it adds would upset the service's)
        with database.session(scope=scope_for(hechi)) as s:
            pool = [create_case(s, hechi, citizen, ITEM)[0].id.hex for _ in range(50)]
            commit(s)
        same_submit, same_review = _same_writes(backend, engine, hechi, pool)
        # A live installation's tables have statistics (autovacuum analyzes a table once a
        # tenth of it changed); these were filled a minute ago, and without statistics the
        # planner may find a case by its number by scanning the tenant's cases instead of the
        # unique index, for the service's statements and the baseline's alike.
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()

        seconds = 2.0
        base_insert = rate(raw_insert, seconds)
        base_three = rate(raw_three, seconds)
        base_submit = rate(same_submit, seconds)
        base_review = rate(same_review, seconds)
        submitted = rate(submit, seconds)
        reviewed = rate(review, seconds)
        return [
            (
                f"[{backend}] submit a case",
                "its own writes, hand-written SQL, one transaction",
                submitted,
                base_submit,
                "≥ 0.5",
            ),
            (
                f"[{backend}] staff action: review",
                "its own writes, hand-written SQL, one transaction",
                reviewed,
                base_review,
                "≥ 0.5",
            ),
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


def _same_writes(
    backend: str, engine: Any, tenant: Any, pool: list[str]
) -> tuple[Callable[[], None], Callable[[], None]]:
    """What submit and review write, as hand-written SQL: one statement per table, one
    transaction, the row-level security settings first (PostgreSQL), through the same driver.
    The rows are as wide as the service's (JSON bodies, 64-character hashes, encrypted
    phones); the case row updated is one of the benchmark's own cases, its values unchanged
    but its version; the rows added go to fifty cases of the baseline's own."""
    pg = backend == "postgres"
    scope = sign_scope(get_settings().secret_key, tenant.id, tenant.province_id)
    m = "%s" if pg else "?"
    t = tenant.id.hex
    cases = itertools.cycle(pool)
    seq = itertools.count(1000)
    phone = "v1:" + "x" * 60  # an encrypted phone is about this long
    params = json.dumps({"number": "HC20261202000001", "item": "城乡居民养老保险参保登记"})
    data = json.dumps({"due_on": "2026-12-20"})

    def vals(n: int) -> str:
        return "(" + ", ".join([m] * n) + ")"

    event = (
        "INSERT INTO case_events (tenant_id, id, case_id, seq, at, actor_kind, actor_id,"
        " actor_name, action, from_state, to_state, step, reason, data, prev_hash, hash)"
        f" VALUES {vals(16)}"
    )
    task = (
        "INSERT INTO case_tasks (tenant_id, id, case_id, step, name, role, level, org_unit_id,"
        " state, days, started_on, started_at, due_on) VALUES " + vals(13)
    )
    outbox_cols = (
        "INSERT INTO outbox (tenant_id, id, channel, template, phone, params, case_id, state,"
        " attempts, next_attempt_at, created_at) VALUES "
    )

    def begin(conn: Any) -> None:
        if pg:
            conn.exec_driver_sql(
                "SELECT set_config('govhall.scope', %s, true),"
                " set_config('govhall.tenant_id', %s, true),"
                " set_config('govhall.province_id', %s, true),"
                " set_config('govhall.platform', 'off', true)",
                (scope, str(tenant.id), str(tenant.province_id)),
            )

    def common(conn: Any, case: str, now: datetime, action: str) -> None:
        conn.exec_driver_sql(
            "UPDATE cases SET version = version + 1, event_count = event_count,"
            f" last_hash = last_hash, updated_at = {m} WHERE tenant_id = {m} AND id = {m}",
            (now, t, case),
        )
        conn.exec_driver_sql(
            event,
            (t, uuid.uuid4().hex, case, next(seq), now, "staff", str(uuid.uuid4()), "韦晓梅",
             action, "submitted", "in_progress", "review", "", data, "a" * 64, "b" * 64),
        )  # fmt: skip

    # each case has one step that review closes (by its key), as the service does
    steps = {case: uuid.uuid4().hex for case in pool}
    with engine.connect() as conn:
        begin(conn)
        for case, step in steps.items():
            conn.exec_driver_sql(
                task,
                (t, step, case, "review", "审核", "reviewer", "county",
                 None, "done", 1, date.today(), datetime.now(UTC), date.today()),
            )  # fmt: skip
        conn.commit()

    def submit() -> None:
        now = datetime.now(UTC)
        case = next(cases)
        with engine.connect() as conn:
            begin(conn)
            common(conn, case, now, "submit")
            conn.exec_driver_sql(
                task,
                (t, uuid.uuid4().hex, case, "pre_review", "预审", "window_clerk", "county",
                 None, "open", 1, date.today(), now, date.today()),
            )  # fmt: skip
            conn.exec_driver_sql(
                "INSERT INTO notices (tenant_id, id, case_id, kind, code, title, body,"
                f" storage_key, sha256, issued_at) VALUES {vals(10)}",
                (t, uuid.uuid4().hex, case, "receipt", uuid.uuid4().hex[:20], "收件凭证",
                 json.dumps(["您的申请材料已收到，我们将在规定时限内完成预审并告知是否受理。"] * 3),
                 "", "", now),
            )  # fmt: skip
            conn.exec_driver_sql(
                outbox_cols + vals(11) + ", " + vals(11),
                (t, uuid.uuid4().hex, "sms", "case_received", phone, params, case, "pending", 0,
                 now, now,
                 t, uuid.uuid4().hex, "sms", "task_assigned", phone, params, case, "pending", 0,
                 now, now),
            )  # fmt: skip
            conn.commit()

    def review() -> None:
        now = datetime.now(UTC)
        case = next(cases)
        with engine.connect() as conn:
            begin(conn)
            common(conn, case, now, "review")
            conn.exec_driver_sql(
                "UPDATE case_tasks SET state = 'done', finished_at = "
                f"{m}, outcome = 'passed' WHERE tenant_id = {m} AND id = {m}",
                (now, t, steps[case]),
            )
            conn.exec_driver_sql(
                task,
                (t, uuid.uuid4().hex, case, "approve", "审批", "approver", "county",
                 None, "open", 2, date.today(), now, date.today()),
            )  # fmt: skip
            conn.exec_driver_sql(
                outbox_cols + vals(11),
                (t, uuid.uuid4().hex, "sms", "task_assigned", phone, params, case, "pending", 0,
                 now, now),
            )  # fmt: skip
            conn.commit()

    return submit, review

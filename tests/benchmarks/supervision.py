"""Supervision at scale (PostgreSQL): with ``GOVHALL_BENCH_CASES`` open cases (default
1,000,000), each figure against the bare operation measured in the same run —

- an idle deadline sweep (nothing due) against the sweep's indexed select alone;
- a sweep that flips 1% of the open steps to red (card, trail event and reminders each)
  against a raw batched UPDATE of as many rows, and against the same writes as hand-written
  set-wise SQL (:func:`_own_writes`), the medians of ``GOVHALL_BENCH_FLIP_ROUNDS`` rounds (3)
  on fresh steps (``GOVHALL_BENCH_SWEEP_ONLY=1`` stops after these);
- the year's dashboard (grouped by department) against the raw aggregate of the year's cases,
  at N cases and again after the history doubles to 2N;
- the relay draining 10,000 SMS through the broker to a vendor speaking HTTP on loopback,
  against a no-op actor draining as many messages through the same broker and worker.

The cases are copies of one real accepted case made through the service layer, written with
``INSERT … SELECT generate_series`` (what they contain does not matter to what is measured;
where they sit in time does: spread over the last 150 days, the doubling 150 days before).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text

from core.cases import clock
from core.cases.actions import ActionIn, perform
from core.cases.materials import IncomingFile, attach_upload
from core.cases.models import Case, CaseTask
from core.cases.service import commit, create_case, submit_case
from core.config import get_settings, reset_settings
from core.db import PLATFORM, Database, reset_database
from core.db.migrate import upgrade
from core.db.rls import sign_scope
from core.identity import Staff
from core.identity.service import account_principal, find_account_by_phone, staff_principal
from core.packs import apply_packs, load_packs
from core.storage import reset_storage
from core.storage.local import LocalStorage
from core.tenancy import Tenant, get_tenant_by_slug, scope_for
from tests.benchmarks.catalog import _database

ROOT = Path(__file__).resolve().parents[2]
CASES = int(os.environ.get("GOVHALL_BENCH_CASES", "1000000"))
MESSAGES = int(os.environ.get("GOVHALL_BENCH_MESSAGES", "10000"))
FLIP_ROUNDS = int(os.environ.get("GOVHALL_BENCH_FLIP_ROUNDS", "3"))
SPREAD = 150  # days of history per N cases

Row = tuple[str, str, float, float, str]


def _platform(conn: Any) -> None:
    conn.execute(text("SELECT set_config('govhall.platform', 'on', true)"))


def _template(database: Database, hechi: Tenant) -> tuple[uuid.UUID, uuid.UUID]:
    """One real case, submitted and accepted through the service layer: (case id, task id)."""
    with database.session(scope=scope_for(hechi)) as s:
        citizen = account_principal(find_account_by_phone(s, hechi.province_id, "13800000001"))
        clerk = staff_principal(
            s, hechi, s.scalar(select(Staff).where(Staff.username == "hechi-clerk"))
        )
        case, _ = create_case(s, hechi, citizen, "HC-SB04")
        number, count = case.number, len(case.content["materials"])
        commit(s)
    for index in range(count):
        incoming = IncomingFile("m.pdf")
        incoming.write(b"%PDF-1.4 " + b"0" * 2000)
        incoming.finish()
        with database.session(scope=scope_for(hechi)) as s:
            attach_upload(s, hechi, citizen, number, index, incoming)
            commit(s)
    with database.session(scope=scope_for(hechi)) as s:
        submit_case(s, hechi, citizen, number)
        perform(s, hechi, clerk, number, ActionIn(action="accept"))
        commit(s)
        case = s.scalar(select(Case).where(Case.number == number))
        task = s.scalar(
            select(CaseTask).where(CaseTask.case_id == case.id, CaseTask.state == "open")
        )
        return case.id, task.id


def _copy_sql(table: Any, overrides: dict[str, str], source: str, alias: str = "") -> str:
    columns = [c.name for c in table.columns]
    values = [overrides.get(c, alias + c) for c in columns]
    return f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(values)} {source}"


def _generate(
    database: Database, case_id: uuid.UUID, task_id: uuid.UUID, n: int, tag: str, back: int
) -> float:
    """``n`` open cases with one open step each, submitted over the ``SPREAD`` days ending
    ``back`` days ago, every step due 3–60 days from today (nothing due yet)."""
    started = time.perf_counter()
    today = clock.today()
    batch = 200_000
    with database.engine.connect() as conn:
        for first in range(0, n, batch):
            last = min(n, first + batch)
            _platform(conn)
            conn.execute(
                text(
                    _copy_sql(
                        Case.__table__,
                        {
                            "id": "gen_random_uuid()",
                            "number": f"'{tag}' || lpad(g::text, 8, '0')",
                            "idempotency_key": "NULL",
                            "content": """'{"promised_days": 10, "legal_days": 20}'::json""",
                            "submitted_at": f"now() - make_interval(days => {back} + g % {SPREAD})",
                            "created_at": f"now() - make_interval(days => {back} + g % {SPREAD})",
                            "accepted_on": f"CAST(:today AS date) - ({back} + g % {SPREAD})",
                            "due_on": "CAST(:today AS date) + 30",
                        },
                        f"FROM cases, generate_series({first}, {last - 1}) AS g "
                        "WHERE cases.id = :case_id",
                    )
                ),
                {"case_id": case_id, "today": today},
            )
            conn.execute(
                text(
                    _copy_sql(
                        CaseTask.__table__,
                        {
                            "id": "gen_random_uuid()",
                            "case_id": "c.id",
                            "due_on": "CAST(:today AS date) + 3 + (abs(hashtext(c.number)) % 58)",
                        },
                        "FROM case_tasks AS t JOIN cases AS c ON c.tenant_id = t.tenant_id "
                        "WHERE t.id = :task_id AND c.number BETWEEN :low AND :high",
                        alias="t.",
                    )
                ),
                {
                    "task_id": task_id,
                    "today": today,
                    "low": f"{tag}{first:08d}",
                    "high": f"{tag}{last - 1:08d}",
                },
            )
            conn.commit()
            print(f"  {last:,} cases", end="\r", flush=True)
        conn.execute(text("ANALYZE cases"))
        conn.execute(text("ANALYZE case_tasks"))
        conn.commit()
    return time.perf_counter() - started


#: reminders the sweep writes a step in the bench's county (the step's holder and a
#: supervisor); the bench checks it, so the baseline below writes as many as the sweep
REMINDERS = 2


def _own_writes(engine: Any, tenant: Tenant, today: date) -> Callable[[Any, list[Any]], None]:
    """What the sweep writes for a batch of steps turning red, as hand-written set-wise SQL in
    one transaction through the same driver: the steps carded, a card register row, a trail
    event and ``REMINDERS`` outbox rows a step, the cases' heads moved — one statement that
    reads the steps with their cases once and writes each table from them (data-modifying
    ``WITH``), the row-level security settings first. The rows are as wide as the sweep's
    (the card's texts, the event's JSON and 64-character hashes, an encrypted phone's length,
    the reminder's parameters); what it leaves out is the sweep's own work: finding and
    locking the due steps, hashing each case's chain and choosing the recipients."""
    scope = sign_scope(get_settings().secret_key, tenant.id, tenant.province_id)
    phone = "enc1:" + "x" * 60  # an encrypted phone is this long
    # one statement: the steps and their cases read once, each table written from them
    statement = (
        "WITH s AS (SELECT s.tenant_id, s.id, s.case_id, s.step, s.name, s.org_unit_id,"
        " s.claimed_by, s.claimed_name, s.due_on, c.number, c.item_code, c.item_name,"
        " c.department_code, c.state::text AS state, c.event_count, c.last_hash,"
        " md5(s.id::text) || md5(c.number) AS hash"
        " FROM case_tasks s JOIN cases c ON c.tenant_id = s.tenant_id AND c.id = s.case_id"
        " WHERE s.tenant_id = %(t)s AND s.id = ANY(%(ids)s)),"
        " steps AS (UPDATE case_tasks SET card = 'red' FROM s"
        " WHERE case_tasks.tenant_id = s.tenant_id AND case_tasks.id = s.id),"
        " cards AS (INSERT INTO supervision_cards (tenant_id, id, case_id, task_id, org_unit_id,"
        " department_code, item_code, staff_id, staff_name, step_name, colour, source, reason,"
        " issued_by, due_on, at)"
        " SELECT tenant_id, gen_random_uuid(), case_id, id, org_unit_id, department_code,"
        " item_code, claimed_by, claimed_name, name, 'red', 'sweep', '环节已超过办理时限',"
        " '电子监察系统', due_on, %(now)s FROM s),"
        " events AS (INSERT INTO case_events (tenant_id, id, case_id, seq, at, actor_kind,"
        " actor_id, actor_name, action, from_state, to_state, step, reason, data, prev_hash,"
        " hash)"
        " SELECT tenant_id, gen_random_uuid(), case_id, event_count + 1, %(now)s, 'system', '',"
        " '系统', 'red_card', state, state, step, '', json_build_object('due_on', due_on),"
        " last_hash, hash FROM s),"
        " heads AS (UPDATE cases SET event_count = s.event_count + 1, last_hash = s.hash,"
        " version = cases.version + 1, updated_at = %(now)s FROM s"
        " WHERE cases.tenant_id = s.tenant_id AND cases.id = s.case_id)"
        " INSERT INTO outbox (tenant_id, id, channel, template, phone, params, case_id, state,"
        " attempts, next_attempt_at, created_at)"
        " SELECT tenant_id, gen_random_uuid(), 'sms', 'card_red', %(phone)s,"
        " json_build_object('number', number, 'item', item_name, 'step', name,"
        " 'due_on', to_char(due_on, 'MM月DD日')), case_id, 'created', 0, %(now)s, %(now)s"
        " FROM s, generate_series(1, %(reminders)s)"
    )

    def write(conn: Any, ids: list[Any]) -> None:
        values = {
            "t": tenant.id,
            "ids": ids,
            "now": datetime.now(UTC),
            "phone": phone,
            "reminders": REMINDERS,
        }
        conn.exec_driver_sql(
            "SELECT set_config('govhall.scope', %s, true),"
            " set_config('govhall.tenant_id', %s, true),"
            " set_config('govhall.province_id', %s, true),"
            " set_config('govhall.platform', 'off', true)",
            (scope, str(tenant.id), str(tenant.province_id)),
        )
        conn.exec_driver_sql(statement, values)
        conn.commit()

    return write


def _timed(call: Callable[[], object], seconds: float) -> float:
    """Calls per second (after a warm-up), for figures too slow for many repetitions."""
    call()
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or done < 3:
        call()
        done += 1
    return done / elapsed


def supervision_benchmarks(
    backend: str, rate: Callable[[Callable[[], object]], float]
) -> list[Row]:
    from core.effects import install
    from core.supervision.dashboard import Filters, report
    from core.supervision.facts import roll_up
    from core.supervision.models import DashboardDay, DashboardMark
    from core.supervision.sweep import run_sweep

    install()  # the commit effects: texts at assignment, events for department systems
    reset_settings()
    reset_storage(LocalStorage(os.path.join(os.environ["GOVHALL_VAR_DIR"], "objects")))
    database, server = _database(backend)
    rows: list[Row] = []
    try:
        upgrade(database.url)
        reset_database(database)
        with database.session(scope=PLATFORM) as session:
            apply_packs(session, load_packs(ROOT / "tenants" / "guangxi"))
            apply_packs(session, load_packs(ROOT / "tenants" / "hechi"))
            session.commit()
        with database.session(scope=None) as s:
            hechi = get_tenant_by_slug(s, "hechi")
        case_id, task_id = _template(database, hechi)
        took = _generate(database, case_id, task_id, CASES, "B", 0)
        print(f"[{backend}] {CASES:,} open cases written in {took:.0f}s", flush=True)
        today = clock.today()
        engine = database.engine

        # -- the idle sweep ----------------------------------------------------------------
        def indexed_select() -> None:
            with engine.connect() as conn:
                conn.execute(
                    text(
                        "SELECT id FROM case_tasks WHERE tenant_id = :t AND state = 'open' AND "
                        "((card IS NULL AND due_on <= :limit) OR (card = 'yellow' AND due_on < "
                        ":today)) ORDER BY due_on LIMIT 500"
                    ),
                    {"t": hechi.id, "limit": today + timedelta(days=1), "today": today},
                ).all()

        def idle_sweep() -> None:
            result = run_sweep(database, today)
            assert result.red + result.yellow == 0

        base = rate(indexed_select)
        idle = rate(idle_sweep)
        rows.append(
            (
                f"[{backend}] idle sweep, {CASES:,} open cases ({1000 / idle:.1f} ms; aim ≤ 10 ms)",
                "its indexed select",
                idle,
                base,
                "≤ 10 ms",
            )
        )

        # -- a sweep that flips 1% to red ------------------------------------------------------
        # ROUNDS rounds, each on steps of its own, the raw update just before the sweep; the
        # medians are reported (one round of 1,000 rows lasts a fraction of a second, and on
        # shared cores one such figure can be off by a factor of two either way)
        flips = CASES // 100
        with engine.connect() as conn:
            _platform(conn)
            ids = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT id FROM case_tasks WHERE tenant_id = :t AND state = 'open' "
                        "ORDER BY id LIMIT :n"
                    ),
                    {"t": hechi.id, "n": flips * 2 * FLIP_ROUNDS},
                )
            ]
        own_writes = _own_writes(engine, hechi, today)
        sweep_rates, raw_rates, own_rates = [], [], []
        for first in range(0, len(ids), flips * 2):
            raw_ids, due_ids = ids[first : first + flips], ids[first + flips : first + flips * 2]
            with engine.connect() as conn:
                _platform(conn)
                conn.execute(
                    text(
                        "UPDATE case_tasks SET due_on = :d WHERE tenant_id = :t AND id = ANY(:ids)"
                    ),
                    {"d": today - timedelta(days=1), "t": hechi.id, "ids": due_ids},
                )
                # the raw update's steps read once first, as the sweep's were by the update
                # above: at a million cases neither starts from pages not in memory
                conn.execute(
                    text(
                        "SELECT count(card) FROM case_tasks WHERE tenant_id = :t AND id = ANY(:ids)"
                    ),
                    {"t": hechi.id, "ids": raw_ids},
                )
                conn.commit()
                started = time.perf_counter()
                for i in range(0, len(raw_ids), 500):
                    _platform(conn)
                    # by the table's key, which leads with the tenant (by id alone each
                    # statement read the whole index: at a million steps most of its time)
                    conn.execute(
                        text(
                            "UPDATE case_tasks SET card = 'red' "
                            "WHERE tenant_id = :t AND id = ANY(:ids)"
                        ),
                        {"t": hechi.id, "ids": raw_ids[i : i + 500]},
                    )
                    conn.commit()
                raw_rates.append(len(raw_ids) / (time.perf_counter() - started))
                for i in range(2):  # the raw update's steps again, for the flips' own writes
                    _platform(conn)
                    conn.execute(
                        text(
                            "UPDATE case_tasks SET card = NULL "
                            "WHERE tenant_id = :t AND id = ANY(:ids)"
                        ),
                        {"t": hechi.id, "ids": raw_ids},
                    )
                    conn.commit()
                    if i == 0:
                        started = time.perf_counter()
                        for j in range(0, len(raw_ids), 500):
                            own_writes(conn, raw_ids[j : j + 500])
                        own_rates.append(len(raw_ids) / (time.perf_counter() - started))
                _platform(conn)
                outbox = conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()
            started = time.perf_counter()
            flipped = run_sweep(database, today)
            sweep_rates.append(flipped.red / (time.perf_counter() - started))
            assert flipped.red == len(due_ids), flipped
            with engine.connect() as conn:
                _platform(conn)
                texts = conn.execute(text("SELECT count(*) FROM outbox")).scalar_one() - outbox
            assert texts == REMINDERS * flipped.red, (texts, "reminders a step: see _own_writes")
        print(
            f"[{backend}] flips a second, each round: sweep "
            + ", ".join(f"{r:,.0f}" for r in sweep_rates)
            + "; raw "
            + ", ".join(f"{r:,.0f}" for r in raw_rates)
            + "; its own writes "
            + ", ".join(f"{r:,.0f}" for r in own_rates),
            flush=True,
        )
        label = (
            f"[{backend}] sweep flipping {flipped.red:,} steps to red (card, event, SMS; "
            f"median of {len(sweep_rates)} rounds)"
        )
        rows.append(
            (
                label,
                "raw batched UPDATE",
                statistics.median(sweep_rates),
                statistics.median(raw_rates),
                "≥ 0.5",
            )
        )
        rows.append(
            (
                label,
                "its own writes, hand-written set-wise SQL, a transaction a batch",
                statistics.median(sweep_rates),
                statistics.median(own_rates),
                "≥ 0.5",
            )
        )
        if os.environ.get("GOVHALL_BENCH_SWEEP_ONLY"):  # the sweep's figures alone
            return rows

        # -- the dashboard, at N and at 2N ---------------------------------------------------
        year = Filters(date(today.year, 1, 1), today)

        def rolled() -> float:
            started = time.perf_counter()
            with database.session(scope=scope_for(hechi)) as s:
                s.execute(delete(DashboardDay).where(DashboardDay.tenant_id == hechi.id))
                s.execute(delete(DashboardMark).where(DashboardMark.tenant_id == hechi.id))
                s.commit()
            while True:
                with database.session(scope=scope_for(hechi)) as s:
                    days = roll_up(s, hechi, today)
                    s.commit()
                if days < 31:
                    return time.perf_counter() - started

        def dashboard() -> None:
            with database.session(scope=scope_for(hechi)) as s:
                report(s, hechi, year, "department")

        def raw_aggregate() -> None:
            with engine.connect() as conn:
                _platform(conn)
                conn.execute(
                    text(
                        "SELECT department_code, count(*), count(completed_at), "
                        "count(rating) FROM cases WHERE tenant_id = :t AND submitted_at >= :y "
                        "GROUP BY department_code"
                    ),
                    {"t": hechi.id, "y": f"{today.year}-01-01"},
                ).all()

        for label in ("N", "2N"):
            if label == "2N":
                took = _generate(database, case_id, task_id, CASES, "D", SPREAD)
                print(f"[{backend}] another {CASES:,} older cases in {took:.0f}s", flush=True)
            roll = rolled()
            print(f"[{backend}] rolled the year up in {roll:.1f}s", flush=True)
            ours, raw = _timed(dashboard, 3), _timed(raw_aggregate, 3)
            total = CASES * (1 if label == "N" else 2)
            rows.append(
                (
                    f"[{backend}] dashboard: the year by department, {total:,} cases "
                    f"({1000 / ours:.1f} ms; raw {1000 / raw:.0f} ms)",
                    "raw aggregate of the year's cases",
                    ours,
                    raw,
                    "≤ 200 ms, flat",
                )
            )
        rows += _relay(database, hechi, backend)
        return rows
    finally:
        database.dispose()
        if server is not None:
            server.stop()


class _Gateway(BaseHTTPRequestHandler):
    """A loopback SMS gateway: accepts a JSON message, answers with its reference."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        reply = json.dumps({"code": "OK", "ref": json.loads(body)["id"]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


def _relay(database: Database, hechi: Tenant, backend: str) -> list[Row]:
    import dramatiq
    import httpx
    from dramatiq import Worker

    from core.notify import SendResult
    from core.plugins import PluginMeta, get_plugin_manager, hookimpl
    from workers import actors
    from workers.broker import broker

    gateway = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{gateway.server_address[1]}/send"
    local = threading.local()

    class Loopback:
        name, priority = "loopback", 100

        def send(self, message):
            client = getattr(local, "client", None) or httpx.Client(timeout=5)
            local.client = client
            response = client.post(url, json={"id": message.id, "to": message.phone})
            return SendResult(ok=True, vendor_ref=response.json()["ref"])

    class Plugin:
        meta = PluginMeta(name="bench_loopback", version="1.0", title="回环短信")

        @hookimpl
        def register_sms_vendors(self, config):
            return [Loopback()]

    manager = get_plugin_manager()
    manager.register(Plugin())
    with database.session(scope=scope_for(hechi)) as s:
        manager.set_enabled(s, hechi, "bench_loopback", True)
        manager.set_enabled(s, hechi, "sms_console", False)
        s.commit()
    from core.notify.outbox import OutboxMessage, enqueue_sms

    with database.session(scope=scope_for(hechi)) as s:  # one real row: its phone encrypted
        params = {"item": "就业创业证申领", "number": "B1", "query_code": "123456"}
        model = enqueue_sms(s, hechi, "13800000001", "case_received", params)
        s.commit()
        model_id = model.id
    with database.engine.connect() as conn:
        _platform(conn)
        conn.execute(
            text("UPDATE outbox SET state = 'failed' WHERE id = :m"), {"m": model_id}
        )  # the model itself is not measured
        columns = [c.name for c in OutboxMessage.__table__.columns]
        overrides = {"id": "gen_random_uuid()", "state": "'created'", "next_attempt_at": "now()"}
        values = [overrides.get(c, "m." + c) for c in columns]
        ids = [
            r[0]
            for r in conn.execute(
                text(
                    f"INSERT INTO outbox ({', '.join(columns)}) SELECT {', '.join(values)} "
                    "FROM outbox AS m, generate_series(1, :n) WHERE m.id = :m RETURNING id"
                ),
                {"m": model_id, "n": MESSAGES},
            )
        ]
        conn.commit()

    @dramatiq.actor(queue_name="bench", max_retries=0)
    def noop(message_id: str) -> None:
        pass

    def drain(actor: Any, queue: str) -> float:
        for message_id in ids:
            actor.send(str(message_id))
        worker = Worker(broker, worker_threads=8, worker_timeout=100)
        started = time.perf_counter()
        worker.start()
        broker.join(queue)
        worker.join()
        elapsed = time.perf_counter() - started
        worker.stop()
        return len(ids) / elapsed

    base = drain(noop, "bench")
    relayed = drain(actors.relay_message, "notify")
    with database.engine.connect() as conn:
        _platform(conn)
        sent = conn.execute(
            text("SELECT count(*) FROM outbox WHERE state = 'sent' AND vendor = 'loopback'")
        ).scalar()
    gateway.shutdown()
    assert sent == len(ids), sent
    return [
        (
            f"[{backend}] relay: {len(ids):,} SMS via the broker to an HTTP gateway on loopback",
            "no-op actor, same broker and worker",
            relayed,
            base,
            "(none set)",
        )
    ]

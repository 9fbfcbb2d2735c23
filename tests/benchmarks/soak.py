"""``make soak``: the production layout under faults, counted from outside.

Two ``govhall serve``, two ``govhall worker`` and a ``govhall scheduler`` as real processes on
PostgreSQL, Redis and an S3 server (moto) on loopback, sending SMS to the cloud vendor's
loopback fake. Twenty clients (citizens with their own tokens) apply N times between them —
create, upload every material, submit — each request with its own ``Idempotency-Key`` and
retried, with the same key, on a 503 (after its ``Retry-After``), a 5xx or a dropped
connection. Meanwhile a worker is SIGKILLed while the vendor is slow to answer (and another
started), Redis is stopped for 30 s, and PostgreSQL is restarted (down for 5 s).

Printed and written to ``var/soak.md``: the requests and the errors by status, and what must
stay zero — applications lost (a client was answered 2xx, the database has not got it),
duplicated (a case or a material twice, a submission twice on a trail, an SMS sent twice for
one event), SMS never sent, objects in storage no row names. Exit status 1 when any of those
is not zero or a request answered 500.

``GOVHALL_SOAK_APPLICATIONS`` (default 300, as the issue's run) and ``GOVHALL_SOAK_SECONDS``
(the span the applications arrive over, default 100) change its size. Not part of
``make test``.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

# importing _installation sets the environment the processes share
from tests.benchmarks._installation import Installation
from tests.servers import PostgresServer, wait_for

APPLICATIONS = int(os.environ.get("GOVHALL_SOAK_APPLICATIONS", "300"))
SECONDS = float(os.environ.get("GOVHALL_SOAK_SECONDS", "100"))
CLIENTS = 20
ITEM = "HC-SB05"  # 就业创业证: an online application with two materials
REDIS_DOWN = 30.0
#: how long PostgreSQL stays down when it restarts (a fast shutdown, then recovery)
PG_DOWN = 5.0
#: a request is given up after this long of retrying
PATIENCE = 240.0


@dataclass
class Application:
    client: int
    seq: int
    number: str = ""
    created: bool = False
    uploaded: int = 0
    submitted: bool = False
    gave_up: str = ""  # the step a client stopped at


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: str) -> None:
        with self.lock:
            self.statuses[status] += 1


class Client(threading.Thread):
    """One citizen applying again and again through either web process."""

    def __init__(
        self, n: int, token: str, urls: list[str], tally: Tally, plan: list[Application]
    ) -> None:
        super().__init__(name=f"soak-client-{n}", daemon=True)
        self.n, self.urls, self.tally, self.plan = n, urls, tally, plan
        self.http = httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"})
        self.turn = n
        self.started = 0.0

    def request(self, method: str, path: str, key: str, **kwargs: Any) -> httpx.Response | None:
        """Send until a final answer (2xx or a refusal), the same key every time."""
        deadline = time.monotonic() + PATIENCE
        wait = 0.5
        while time.monotonic() < deadline:
            self.turn += 1
            url = self.urls[self.turn % len(self.urls)] + path
            try:
                answer = self.http.request(method, url, headers={"Idempotency-Key": key}, **kwargs)
            except httpx.HTTPError:
                self.tally.count("connection")
                time.sleep(wait)
                wait = min(wait * 2, 5.0)
                continue
            self.tally.count(str(answer.status_code))
            if answer.status_code < 500:
                return answer
            retry_after = answer.headers.get("retry-after", "")
            time.sleep(min(float(retry_after), 5.0) if retry_after.isdigit() else wait)
            wait = min(wait * 2, 5.0)
        return None

    def apply(self, app: Application, materials: int) -> None:
        tag = f"soak-{self.n}-{app.seq}"
        made = self.request("POST", "/api/v1/t/hechi/cases", f"{tag}-create", json={"item": ITEM})
        if made is None or made.status_code not in (200, 201):
            app.gave_up = f"create {made.status_code if made is not None else 'timeout'}"
            return
        app.number, app.created = made.json()["number"], True
        for index in range(materials):
            body = b"%PDF-1.4\n%" + secrets.token_bytes(64) + b"\n" + b"0" * 2000
            uploaded = self.request(
                "POST",
                f"/api/v1/t/hechi/cases/{app.number}/materials",
                f"{tag}-upload-{index}",
                files={"file": (f"材料{index + 1}.pdf", body, "application/pdf")},
                data={"index": str(index)},
            )
            if uploaded is None or uploaded.status_code != 201:
                code = uploaded.status_code if uploaded is not None else "timeout"
                app.gave_up = f"upload {code}"
                return
            app.uploaded += 1
        done = self.request("POST", f"/api/v1/t/hechi/cases/{app.number}/submit", f"{tag}-submit")
        if done is None or done.status_code != 200:
            app.gave_up = f"submit {done.status_code if done is not None else 'timeout'}"
            return
        app.submitted = True

    def run(self) -> None:
        item = self.request("GET", f"/api/v1/t/hechi/items/{ITEM}", f"soak-{self.n}-item")
        assert item is not None and item.status_code == 200, item
        materials = len(item.json()["content"]["materials"])
        for app in self.plan:
            # applications arrive at a steady pace over SECONDS (sooner if behind)
            due = self.started + app.seq * SECONDS * CLIENTS / max(APPLICATIONS, 1)
            time.sleep(max(0.0, due - time.monotonic()))
            self.apply(app, materials)


class Faults(threading.Thread):
    """The plan, from the first application on: a worker SIGKILLed while sends are in
    flight, Redis stopped for 30 s, PostgreSQL restarted."""

    def __init__(self, hall: Installation) -> None:
        super().__init__(name="soak-faults", daemon=True)
        self.hall = hall
        self.log: list[str] = []
        self.t0 = 0.0

    def at(self, fraction: float) -> None:
        time.sleep(max(0.0, self.t0 + fraction * SECONDS - time.monotonic()))

    def note(self, what: str) -> None:
        self.log.append(f"{time.monotonic() - self.t0:.0f} s: {what}")

    def run(self) -> None:
        hall = self.hall
        self.at(0.10)
        hall.cloud.delay = 1.5  # the vendor is slow: sends are in flight
        self.at(0.15)
        victim = hall.workers.pop(0)
        victim.kill()
        self.note(f"worker SIGKILLed ({hall.cloud.in_flight} SMS in flight)")
        hall.cloud.delay = 0.0
        hall.workers.append(hall._spawn(["worker", "--threads", "2"], "worker"))
        self.at(0.25)
        hall.redis.stop()
        self.note("Redis stopped")
        time.sleep(REDIS_DOWN)
        hall.redis.start()
        self.note("Redis started again")
        self.at(0.65)
        self.note("PostgreSQL stopped (fast: sessions terminated)")
        _pg_ctl(hall.pg, "stop", "-m", "fast")
        time.sleep(PG_DOWN)
        _pg_ctl(hall.pg, "start")
        self.note("PostgreSQL started again")


def _pg_ctl(pg: PostgresServer, *args: str) -> None:
    """``pg_ctl`` on the test cluster, with the options it was started with."""
    options = (
        f"-p {pg.port} -k {pg.root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    pg._run(
        str(pg.bin / "pg_ctl"),
        "-D",
        str(pg.data),
        "-l",
        str(pg.root / "log"),
        "-w",
        *(["-o", options] if args[0] == "start" else []),
        *args,
    )


def _check(hall: Installation, plan: list[Application]) -> dict[str, Any]:
    """What the database, the gateway and the bucket hold, against what clients were told."""
    from sqlalchemy import func, select

    from core.cases.models import Case, CaseEvent, CaseMaterial
    from core.cases.orphans import SWEPT_KINDS, referenced
    from core.db import PLATFORM
    from core.notify.outbox import OutboxMessage
    from core.storage.s3 import S3Storage

    with hall.database.session(scope=PLATFORM) as s:
        # every case the soak's citizens have, whatever key (or none) it was made with
        mine = list(s.scalars(select(Case).where(Case.applicant_name.like("压测居民%"))))
        cases = {c.number: c for c in mine}
        ids = [c.id for c in mine]
        per_slot = list(
            s.execute(
                select(CaseMaterial.case_id, CaseMaterial.spec_index, func.count())
                .where(CaseMaterial.case_id.in_(ids))
                .group_by(CaseMaterial.case_id, CaseMaterial.spec_index)
            )
        )
        submits = list(
            s.execute(
                select(CaseEvent.case_id, func.count())
                .where(CaseEvent.case_id.in_(ids), CaseEvent.action == "submit")
                .group_by(CaseEvent.case_id)
            )
        )
        outbox = [
            (row.case_id, row.template, row.phone, row.state)
            for row in s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.case_id.in_(ids), OutboxMessage.channel == "sms"
                )
            )
        ]
        current = Counter(
            s.scalars(
                select(CaseMaterial.case_id).where(
                    CaseMaterial.case_id.in_(ids), CaseMaterial.status == "current"
                )
            )
        )
        storage = S3Storage(hall.bucket, hall.s3.url)
        stored = [
            o.key for o in storage.list("t/") if (o.key.split("/") + ["", "", ""])[2] in SWEPT_KINDS
        ]
        named = referenced(s, stored)
    lost = [
        a
        for a in plan
        if (a.created and a.number not in cases)
        or (a.created and current[cases[a.number].id] < a.uploaded)
        or (a.submitted and cases[a.number].state.value == "draft")
    ]
    unknown = [a for a in plan if a.gave_up and a.number in cases and not a.submitted]
    # one SMS per case, template and phone (a step's staff each get theirs)
    events = Counter((case_id, template, phone) for case_id, template, phone, _ in outbox)
    received = Counter(m.get("out_id") for m in hall.cloud.received)
    keys = Counter(c.idempotency_key for c in mine)
    return {
        "lost": len(lost),
        "lost_examples": [a.number or f"client {a.client} #{a.seq}" for a in lost[:5]],
        "cases": len(cases),
        # one case per application's key; a case without a key, or a second one, is a duplicate
        "cases_duplicated": sum(n - 1 for k, n in keys.items() if k and n > 1) + keys[None],
        "materials_twice": sum(1 for *_, n in per_slot if n > 1),
        "submitted_twice": sum(1 for _, n in submits if n > 1),
        "sms_rows": len(outbox),
        "sms_unsent": sum(1 for *_, state in outbox if state != "sent"),
        "sms_twice_for_one_event": sum(n - 1 for n in events.values() if n > 1),
        "sms_received": sum(received.values()),
        "sms_resent_same_id": sum(n - 1 for n in received.values() if n > 1),
        "gave_up_but_committed": len(unknown),
        "objects": len(stored),
        "orphaned": len([k for k in stored if k not in named]),
        "orphan_examples": [k for k in stored if k not in named][:3],
    }


def _drained(hall: Installation, plan: list[Application]) -> bool:
    from sqlalchemy import select

    from core.cases.models import Case
    from core.db import PLATFORM
    from core.notify.outbox import OutboxMessage

    with hall.database.session(scope=PLATFORM) as s:
        states = list(
            s.scalars(
                select(OutboxMessage.state)
                .join(Case, Case.id == OutboxMessage.case_id)
                .where(Case.idempotency_key.like("soak-%"), OutboxMessage.channel == "sms")
            )
        )
    return bool(states) and all(state == "sent" for state in states)


def main() -> int:
    tmp = Path(os.environ["GOVHALL_VAR_DIR"])
    hall = Installation(tmp)
    started = time.monotonic()
    try:
        hall.start()
        tokens = hall.citizens(CLIENTS)
        urls = hall.urls
        plan = [Application(client=n % CLIENTS, seq=n // CLIENTS) for n in range(APPLICATIONS)]
        tally = Tally()
        clients = [
            Client(n, tokens[n], urls, tally, [a for a in plan if a.client == n])
            for n in range(CLIENTS)
        ]
        faults = Faults(hall)
        load_started = time.monotonic()
        faults.t0 = load_started
        for client in clients:
            client.started = load_started
            client.start()
        faults.start()
        for client in clients:
            client.join()
        faults.join()
        load_seconds = time.monotonic() - load_started
        try:
            wait_for(lambda: _drained(hall, plan), timeout=180, what="every SMS sent")
        except RuntimeError as exc:
            print(f"warning: {exc}", file=sys.stderr)
        time.sleep(5)  # a web process's check of a failed upload's file, once it is answered
        found = _check(hall, plan)
        memory = hall.web_memory()
    finally:
        hall.stop()
    return _report(tmp, plan, tally, faults.log, found, memory, load_seconds, started)


def _report(
    tmp: Path,
    plan: list[Application],
    tally: Tally,
    faults: list[str],
    found: dict[str, Any],
    memory: list[float],
    load_seconds: float,
    started: float,
) -> int:
    statuses = tally.statuses
    requests = sum(statuses.values())
    errors = {k: v for k, v in sorted(statuses.items()) if not k.startswith("2")}
    gave_up = [a for a in plan if a.gave_up]
    rows = [
        ("applications (submitted / asked)", f"{sum(a.submitted for a in plan)} / {len(plan)}"),
        ("requests", f"{requests:,}"),
        (
            "errors by status (each retried)",
            ", ".join(f"{k}: {v}" for k, v in errors.items()) or "none",
        ),
        (
            "applications given up by their client",
            f"{len(gave_up)}"
            + (f" ({', '.join(sorted({a.gave_up for a in gave_up}))})" if gave_up else ""),
        ),
        ("lost: answered 2xx, missing or unsubmitted", str(found["lost"])),
        ("given up, yet committed", str(found["gave_up_but_committed"])),
        ("duplicated cases", str(found["cases_duplicated"])),
        ("materials stored twice", str(found["materials_twice"])),
        ("submissions twice on a trail", str(found["submitted_twice"])),
        (
            "SMS received by the gateway",
            f"{found['sms_received']:,} for {found['sms_rows']:,} outbox rows",
        ),
        ("SMS resent under the same id (kept once)", str(found["sms_resent_same_id"])),
        ("duplicated SMS: two for one event", str(found["sms_twice_for_one_event"])),
        ("SMS never sent", str(found["sms_unsent"])),
        ("objects in storage / orphaned", f"{found['objects']:,} / {found['orphaned']}"),
        ("web processes' resident memory (MB)", ", ".join(f"{m:.0f}" for m in memory)),
    ]
    lines = [
        f"soak: {len(plan)} applications of {ITEM} from {CLIENTS} clients, arriving over "
        f"{SECONDS:.0f} s (load took {load_seconds:.0f} s, the whole run "
        f"{time.monotonic() - started:.0f} s); two web processes, two workers, a scheduler, "
        "PostgreSQL, Redis, S3",
        "faults: " + "; ".join(faults),
        "",
        "| count | value |",
        "| --- | ---: |",
        *[f"| {name} | {value} |" for name, value in rows],
    ]
    if found["lost_examples"]:
        lines.append(f"\nlost: {', '.join(found['lost_examples'])}")
    if found["orphan_examples"]:
        lines.append(f"orphaned: {', '.join(found['orphan_examples'])}")
    text = "\n".join(lines)
    print(text)
    (tmp / "soak.md").write_text(text + "\n", encoding="utf-8")
    print(f"\n(written to {tmp / 'soak.md'}; the processes' logs are beside it)")
    bad = (
        found["lost"]
        + found["cases_duplicated"]
        + found["materials_twice"]
        + found["submitted_twice"]
        + found["sms_twice_for_one_event"]
        + found["sms_unsent"]
        + found["orphaned"]
        + statuses.get("500", 0)
    )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

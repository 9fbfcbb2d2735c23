"""The load generator of ``tests.benchmarks.load``, in a process of its own: Locust patches
the standard library for gevent when imported, which the installation's servers (threads)
must not see. Reads its plan as JSON from ``argv[1]``, runs each number of clients in turn
and prints one JSON line per run: requests, failures by reason, and per request name the
count, failures and p50/p95/p99 in ms."""

from __future__ import annotations

import itertools
import json
import random
import secrets
import sys
import time
from typing import Any

import gevent
import locust  # noqa: F401 - first: gevent patches the standard library
from locust import between, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment

PLAN: dict[str, Any] = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
HOSTS: list[str] = PLAN.get("urls", [])
CITIZENS: list[str] = PLAN.get("citizens", [])
STAFF: str = PLAN.get("staff", "")
ITEM = PLAN.get("item", "HC-SB05")
MATERIALS = int(PLAN.get("materials", 2))
TERMS = ["社保", "户口", "营业执照", "医保", "公积金", "出生", "婚姻", "就业", "养老", "残疾"]
_turn = itertools.count()


def _pdf() -> bytes:
    return b"%PDF-1.4\n%" + secrets.token_bytes(64) + b"\n" + b"0" * 20_000 + b"\n%%EOF\n"


class Citizen(FastHttpUser):
    """Browses, searches, reads a guide, applies (a draft, every material, submit) and
    follows the progress of what it applied for."""

    weight = 9
    wait_time = between(1, 3)
    host = HOSTS[0] if HOSTS else "http://127.0.0.1"

    def on_start(self) -> None:
        n = next(_turn)
        self.host = HOSTS[n % len(HOSTS)]  # each client sticks to one web process
        self.client.base_url = self.host
        self.auth = {"Authorization": f"Bearer {CITIZENS[n % len(CITIZENS)]}"}
        self.mine: list[str] = []

    @task(3)
    def browse(self) -> None:
        self.client.get("/t/hechi/", name="browse: portal")

    @task(3)
    def search(self) -> None:
        self.client.get(f"/t/hechi/items?q={random.choice(TERMS)}", name="search: items page")

    @task(3)
    def guide(self) -> None:
        self.client.get(f"/t/hechi/items/{ITEM}", name="guide: item page")

    @task(2)
    def progress(self) -> None:
        if self.mine:
            number = random.choice(self.mine)
            self.client.get(
                f"/api/v1/t/hechi/cases/{number}", headers=self.auth, name="progress: case"
            )

    @task(1)
    def apply(self) -> None:
        key = secrets.token_hex(8)
        made = self.client.post(
            "/api/v1/t/hechi/cases",
            json={"item": ITEM},
            headers={**self.auth, "Idempotency-Key": f"{key}-create"},
            name="apply: create",
        )
        if made.status_code not in (200, 201):
            return
        number = made.json()["number"]
        for index in range(MATERIALS):
            body, boundary = _multipart(index)
            up = self.client.post(
                f"/api/v1/t/hechi/cases/{number}/materials",
                data=body,  # type: ignore[arg-type]  # bytes are sent as they are
                headers={
                    **self.auth,
                    "Idempotency-Key": f"{key}-upload-{index}",
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                },
                name="apply: upload a PDF",
            )
            if up.status_code != 201:
                return
        done = self.client.post(
            f"/api/v1/t/hechi/cases/{number}/submit",
            headers={**self.auth, "Idempotency-Key": f"{key}-submit"},
            name="apply: submit",
        )
        if done.status_code == 200:
            self.mine.append(number)


class Clerk(FastHttpUser):
    """A window clerk: the list of cases waiting (the workbench's data) and accepting one."""

    weight = 1
    wait_time = between(1, 3)
    host = HOSTS[0] if HOSTS else "http://127.0.0.1"

    def on_start(self) -> None:
        self.host = HOSTS[next(_turn) % len(HOSTS)]
        self.client.base_url = self.host
        self.auth = {"Authorization": f"Bearer {STAFF}"}
        self.waiting: list[str] = []

    @task(3)
    def workbench(self) -> None:
        answer = self.client.get(
            "/api/v1/t/hechi/cases?state=submitted&limit=20",
            headers=self.auth,
            name="workbench: cases waiting",
        )
        if answer.status_code == 200:
            self.waiting = [c["number"] for c in answer.json()["cases"]]

    @task(1)
    def act(self) -> None:
        if not self.waiting:
            return
        number = self.waiting.pop(random.randrange(len(self.waiting)))
        with self.client.post(
            f"/api/v1/t/hechi/cases/{number}/actions",
            json={"action": "accept"},
            headers={**self.auth, "Idempotency-Key": secrets.token_hex(8)},
            name="act: accept",
            catch_response=True,
        ) as answer:
            if answer.status_code == 409:  # another clerk accepted it first: not an error
                answer.success()


def _multipart(index: int) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="index"\r\n\r\n{index}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="material-{index + 1}.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    return head + _pdf() + f"\r\n--{boundary}--\r\n".encode(), boundary


def run(clients: int, seconds: float) -> dict[str, Any]:
    env = Environment(user_classes=[Citizen, Clerk])
    per_host: dict[str, int] = dict.fromkeys(HOSTS, 0)

    def count(url: str | None = None, **_: Any) -> None:
        for host in HOSTS:
            if url and url.startswith(host):
                per_host[host] += 1

    env.events.request.add_listener(count)  # every request, ramp-up included
    runner = env.create_local_runner()
    runner.start(clients, spawn_rate=max(clients / 10, 1))
    while runner.user_count < clients:
        gevent.sleep(0.2)
    gevent.sleep(2)  # every client past its first request
    env.stats.reset_all()
    started = time.monotonic()
    gevent.sleep(seconds)
    elapsed = time.monotonic() - started
    runner.stop()
    total = env.stats.total
    names = {}
    for (name, _method), entry in sorted(env.stats.entries.items()):
        names[name] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
        }
    errors = {f"{e.name}: {e.error}"[:160]: e.occurrences for e in env.stats.errors.values()}
    result = {
        "clients": clients,
        "seconds": elapsed,
        "requests": total.num_requests,
        "failures": total.num_failures,
        "rps": total.num_requests / elapsed,
        "p50": total.get_response_time_percentile(0.5),
        "p95": total.get_response_time_percentile(0.95),
        "p99": total.get_response_time_percentile(0.99),
        "names": names,
        "per_host": [per_host[host] for host in HOSTS],
        "errors": errors,
    }
    runner.quit()
    return result


if __name__ == "__main__":
    result = run(int(PLAN["clients"]), float(PLAN["seconds"]))
    print(json.dumps(result, ensure_ascii=False), flush=True)

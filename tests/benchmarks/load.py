"""The load test of the real thing (``make bench``, ``GOVHALL_BENCH_ONLY=load``): the
production layout of ``make soak`` without its faults — two ``govhall serve``, two workers
and a scheduler on PostgreSQL, Redis and S3 — driven from outside by Locust with a mix of
citizens (nine in ten: the portal, a search, an item's guide, applying with two PDF uploads
and a submit, the progress of their cases) and window clerks (the cases waiting, accepting
one), each waiting 1–3 s between requests, as people do.

For every number of concurrent clients (``GOVHALL_BENCH_LOAD_CLIENTS``, default
``50,200,500``) it ramps up over 10 s, then measures ``GOVHALL_BENCH_LOAD_SECONDS`` (default
60): throughput, p50/p95/p99 latency, the errors, and the resident memory of each web process
with the requests it has served so far. A clerk's accept answered 409 (another clerk was
first) is not an error. Printed and written to ``var/load.md``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# importing _installation sets the environment the processes share
from tests.benchmarks._installation import Installation

CLIENTS = [
    int(n) for n in os.environ.get("GOVHALL_BENCH_LOAD_CLIENTS", "50,200,500").split(",") if n
]
SECONDS = float(os.environ.get("GOVHALL_BENCH_LOAD_SECONDS", "60"))
ACCOUNTS = 50  # citizens with a token; clients share them round-robin
ITEM = "HC-SB05"  # 就业创业证: an online application with two materials

Row = tuple[str, str, float, float, str]


def _drive(hall: Installation, plan: dict[str, Any], clients: int) -> dict[str, Any]:
    args = json.dumps({**plan, "clients": clients, "seconds": SECONDS})
    log = hall.tmp / f"locust-{clients}.log"
    with log.open("wb") as err:
        done = subprocess.run(
            [sys.executable, "-m", "tests.benchmarks._locust", args],
            stdout=subprocess.PIPE,
            stderr=err,
            timeout=SECONDS + clients / 5 + 300,
            check=False,
        )
    lines = done.stdout.decode().strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the load generator failed: see {log}")
    return dict(json.loads(lines[-1]))


def run_load() -> tuple[list[dict[str, Any]], str]:
    """Every run's figures, and the table as text."""
    from tests.helpers import staff_token

    tmp = Path(os.environ["GOVHALL_VAR_DIR"]) / "load"
    tmp.mkdir(parents=True, exist_ok=True)
    # GOVHALL_BENCH_TRACEMALLOC=1: each web process logs what grew most every 30 s
    traced = {"PYTHONTRACEMALLOC": "1"} if os.environ.get("GOVHALL_BENCH_TRACEMALLOC") else {}
    hall = Installation(tmp, database="govhall_load", web_env=traced)
    results: list[dict[str, Any]] = []
    saved = dict(os.environ)  # the installation points this process at itself
    try:
        hall.start()
        plan = {
            "urls": hall.urls,
            "citizens": hall.citizens(ACCOUNTS),
            "staff": staff_token(hall.database, "hechi", "hechi-clerk"),
            "item": ITEM,
            "materials": 2,
        }
        served = [0] * len(hall.urls)  # requests each web process has answered so far
        for clients in CLIENTS:
            result = _drive(hall, plan, clients)
            result["memory"] = hall.web_memory()
            served = [a + b for a, b in zip(served, result["per_host"], strict=True)]
            result["served"] = served
            results.append(result)
            print(_summary(result), flush=True)
            time.sleep(5)  # the workers catch up on SMS before the next run
    finally:
        hall.stop()
        os.environ.clear()
        os.environ.update(saved)
    text = _table(results)
    (tmp.parent / "load.md").write_text(text + "\n", encoding="utf-8")
    return results, text


def _refused(r: dict[str, Any]) -> int:
    """The errors that were a web process refusing at once for load (503 busy, web/shedding.py)."""
    return sum(n for what, n in r["errors"].items() if "code=503" in what)


def _summary(r: dict[str, Any]) -> str:
    return (
        f"load {r['clients']} clients: {r['rps']:.1f} requests/s, p50 {r['p50']} ms, "
        f"p95 {r['p95']} ms, p99 {r['p99']} ms, {r['failures']} errors of {r['requests']} "
        f"({_refused(r)} refused with 503); "
        f"web memory {', '.join(f'{m:.0f}' for m in r['memory'])} MB"
    )


def _table(results: list[dict[str, Any]]) -> str:
    lines = [
        f"load: two web processes, two workers, a scheduler on PostgreSQL, Redis and S3; "
        f"{SECONDS:.0f} s measured per run after a 10 s ramp-up; clients wait 1-3 s between "
        "requests",
        "",
        "| clients | requests/s | p50 ms | p95 ms | p99 ms | errors / requests "
        "| web processes' memory (MB) after (requests served) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        memory = ", ".join(
            f"{m:.0f} ({n:,})" for m, n in zip(r["memory"], r["served"], strict=False)
        )
        lines.append(
            f"| {r['clients']} | {r['rps']:.1f} | {r['p50']} | {r['p95']} | {r['p99']} "
            f"| {r['failures']} / {r['requests']:,} ({_refused(r):,} refused, 503) | {memory} |"
        )
    for r in results:
        lines += [
            "",
            f"{r['clients']} clients, by request:",
            "",
            "| request | count | errors | p50 ms | p95 ms | p99 ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, e in r["names"].items():
            lines.append(
                f"| {name} | {e['requests']:,} | {e['failures']} | {e['p50']} | {e['p95']} "
                f"| {e['p99']} |"
            )
        if r["errors"]:
            lines += ["", "errors: " + "; ".join(f"{k} ×{v}" for k, v in r["errors"].items())]
    return "\n".join(lines)


def load_benchmarks() -> list[Row]:
    """``make bench``'s rows: throughput and p95 per number of clients (the aim: 0 errors and
    p95 ≤ 300 ms at 200 clients), with the whole table printed before."""
    results, text = run_load()
    print(text, flush=True)
    rows: list[Row] = []
    for r in results:
        rows.append(
            (
                f"load, {r['clients']} clients, {r['failures']} errors: p95 (ms)",
                "the aim, 300 ms",
                float(r["p95"] or 1),
                300.0,
                "≥ 1 and 0 errors at 200 clients",
            )
        )
    return rows


if __name__ == "__main__":
    print(run_load()[1])

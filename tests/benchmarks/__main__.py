"""``make bench``: every figure as a ratio to a baseline measured in the same run.

Run apart from the test suite (they time things; tests must not). Prints a table and writes
it to ``var/bench.md`` for docs/performance.md.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("GOVHALL_VAR_DIR", tempfile.mkdtemp(prefix="govhall-bench-"))
os.environ.setdefault("GOVHALL_ARGON2_PROFILE", "test")
os.environ.setdefault("GOVHALL_OUTBOUND_ALLOW_PRIVATE", "1")  # vendors' fakes on loopback

from tests.benchmarks.cases import case_benchmarks
from tests.benchmarks.catalog import catalog_benchmarks
from tests.benchmarks.catalog_import import import_benchmarks
from tests.benchmarks.memory import memory_benchmarks
from tests.benchmarks.supervision import supervision_benchmarks

SECONDS = float(os.environ.get("GOVHALL_BENCH_SECONDS", "3"))


def rate(call: Callable[[], object], seconds: float = SECONDS) -> float:
    """Calls per second, after a short warm-up."""
    for _ in range(20):
        call()
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        call()
        done += 1
    return done / elapsed


def main() -> int:
    logging.disable(logging.INFO)  # a log line per request would be measured too
    rows: list[tuple[str, str, float, float, str]] = []
    backends = sys.argv[1:] or ["sqlite", "postgres"]
    # catalog | import | cases | supervision | memory | load; empty: all
    only = os.environ.get("GOVHALL_BENCH_ONLY", "")
    for backend in backends:
        if only in ("", "catalog"):
            rows += catalog_benchmarks(backend, rate)
        if only in ("", "import"):
            rows += import_benchmarks(backend, rate)
        if only in ("", "cases"):
            rows += case_benchmarks(backend, rate)
        # a million cases: PostgreSQL, the production database (GOVHALL_BENCH_CASES to change)
        if only in ("", "supervision") and (backend == "postgres" or only == "supervision"):
            rows += supervision_benchmarks(backend, rate)
    if only in ("", "memory"):
        rows += memory_benchmarks()
    if only in ("", "load"):  # last: it points this process at its own PostgreSQL
        from tests.benchmarks.load import load_benchmarks

        rows += load_benchmarks()
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}",
        "",
        "Rates are per second and the ratio is value/baseline; memory (MB) and latency (ms) have"
        " the ratio baseline/value — higher is better everywhere.",
        "",
        "| figure | baseline | value | baseline value | ratio | aim |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for name, baseline, value, base, aim in rows:
        if "(MB)" in name or "(ms)" in name:  # less is better
            figures = f"{value:,.1f} | {base:,.1f} | {base / value:.2f}"
        else:
            figures = f"{value:,.0f} | {base:,.0f} | {value / base:.2f}"
        lines.append(f"| {name} | {baseline} | {figures} | {aim} |")
    text = "\n".join(lines)
    print(text)
    out = Path(os.environ["GOVHALL_VAR_DIR"]) / "bench.md"
    out.write_text(text + "\n", encoding="utf-8")
    print(f"\n(written to {out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

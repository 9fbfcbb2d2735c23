"""``govhall serve --demo`` on a fresh machine is the demo: the database migrated, the demo
tenants loaded when there is no county yet, and the banner naming where the SMS codes go — as a
developer who ran only that command (not ``make run``) expects."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.servers import free_port, wait_for

BIN = Path(sys.executable).parent


def test_serve_demo_on_an_empty_directory_serves_the_demo_counties(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "GOVHALL_VAR_DIR": str(tmp_path),
        "GOVHALL_ARGON2_PROFILE": "test",
        "GOVHALL_REDIS_URL": "",
        "GOVHALL_DATABASE_URL": "",
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(BIN / "govhall"), "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/t/hechi/"
        wait_for(lambda: httpx.get(url).status_code == 200, timeout=240, what=log.read_text())
        assert "河池" in httpx.get(url).text
        banner = log.read_text()
        assert "已载入演示地区" in banner and "hechi" in banner
        assert str(tmp_path / "sms-outbox.jsonl") in banner  # where the codes really are
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)

    # started again: the counties are there, nothing is loaded twice
    with log.open("w") as out:
        again = subprocess.Popen(
            [str(BIN / "govhall"), "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: httpx.get(url).status_code == 200, timeout=120, what=log.read_text())
        assert "已载入演示地区" not in log.read_text()
    finally:
        again.send_signal(signal.SIGINT)
        again.wait(timeout=30)


def test_serve_demo_is_refused_in_production(tmp_path: Path) -> None:
    refused = subprocess.run(
        [str(BIN / "govhall"), "serve", "--demo", "--port", str(free_port())],
        env={**os.environ, "GOVHALL_VAR_DIR": str(tmp_path), "GOVHALL_ENV": "production"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "--demo" in refused.stderr + refused.stdout

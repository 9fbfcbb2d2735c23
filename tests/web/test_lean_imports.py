"""A govhall process imports what it serves, not what it might: Authlib and our OpenID
Connect provider wait for the first OpenID Connect request, boto3 for the first object in S3,
and httpx's command-line client (with rich and pygments) is never loaded (docs/performance.md,
"Memory under load": 3 to 12 MB each in every web process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: loaded on first use only, or never
LAZY = ("authlib", "joserfc", "core.identity.oidc", "boto3", "botocore", "httpx._main", "rich")


def test_the_govhall_command_and_the_web_app_import_none_of_the_rarely_used() -> None:
    code = (
        "import sys, web.cli, web.app, httpx\n"
        f"lazy = {LAZY!r}\n"
        "print(' '.join(sorted(m for m in sys.modules if sys.modules[m] is not None\n"
        "    and any(m == n or m.startswith(n + '.') for n in lazy))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


def test_httpx_still_works_without_its_command_line_client() -> None:
    import httpx

    import web.cli  # noqa: F401 - marks httpx._main absent when first

    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="ok"))
    with httpx.Client(transport=transport) as client:
        assert client.get("http://example.invalid/").text == "ok"

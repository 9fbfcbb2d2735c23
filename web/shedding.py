"""Refusing at once what a web process cannot serve in time (load shedding).

A web process serves its requests with a bounded number of threads and database connections.
Past that, requests used to queue without limit: at 500 clients on two cores every request
waited longer than its client would (docs/performance.md, "Load"), so the process served
nobody. :class:`Admission` counts the requests a process is working on and answers the ones
beyond ``GOVHALL_MAX_CONCURRENT_REQUESTS`` straight away with 503 and ``Retry-After``, in the
project's error form (JSON for the API and scripts, a short page for a browser): the clients
it can serve are served in time, the others are told to come back in a few seconds — and a
retrying client's ``Idempotency-Key`` makes its retry safe.

``/healthz`` is never refused (a load balancer must be able to tell "busy" from "dead"), nor
are the static files (small, served from memory and disk without a thread or a connection).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send

log = logging.getLogger("govhall.web")

#: seconds a refused client is asked to wait before trying again
RETRY_AFTER_SECONDS = 3
#: requests never refused: the health check and the static files
_ALWAYS = ("/healthz", "/static/", "/favicon.ico")
_JSON_PREFIXES = ("/api/", "/oauth/", "/schema", "/.well-known")

BUSY_DETAIL = "办事的人较多，请稍等几秒后再试"
_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>请稍后再试</title>
<style>body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;
padding:3rem 1.25rem;color:#1f2937;background:#f5f7fa}main{max-width:32rem;margin:0 auto;
background:#fff;border-radius:.5rem;padding:2rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.375rem;margin:0 0 1rem}p{line-height:1.7;margin:.5rem 0}
p[lang=en]{color:#4b5563;font-size:.9rem}
</style></head>
<body><main><h1>请稍后再试</h1>
<p>现在办事的人较多，系统正在为排在前面的群众办理。请稍等几秒后重试：\
刷新本页，或返回上一页再次提交（已填写的内容仍在上一页）。</p>
<p lang="en">The service is busy. Please try again in a few seconds: reload this page, or go
back and submit again.</p></main></body></html>
""".encode()


def _wants_json(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    if path.startswith(_JSON_PREFIXES):
        return True
    headers = dict(scope.get("headers") or [])
    if headers.get(b"hx-request") == b"true" and headers.get(b"hx-boosted") != b"true":
        return True
    accept = headers.get(b"accept", b"")
    return b"application/json" in accept and b"text/html" not in accept


class Admission:
    """Wraps the ASGI app; at most ``limit`` HTTP requests in progress, the rest refused with
    503 at once. Attribute access reaches the wrapped app (``app.state`` and the like)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_progress = 0
        self.refused = 0
        self._last_logged = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if self.limit <= 0 or str(scope["type"]) != "http" or path.startswith(_ALWAYS):
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.limit:
            await self._refuse(scope, send)
            return
        # one event loop per process: the counter needs no lock (no await between the test
        # and the increment)
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1

    async def _refuse(self, scope: Scope, send: Send) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self._last_logged >= 10:  # a line per ten seconds, not one per refusal
            self._last_logged = now
            log.warning(
                "busy: %d requests in progress (limit %d); %d refused with 503 so far",
                self.in_progress,
                self.limit,
                self.refused,
            )
        if _wants_json(scope):
            body = json.dumps({"error": "busy", "detail": BUSY_DETAIL}, ensure_ascii=False).encode()
            content_type = b"application/json"
        else:
            body, content_type = _PAGE, b"text/html; charset=utf-8"
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
                (b"x-frame-options", b"DENY"),
                (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'"),
            ],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})

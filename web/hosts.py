"""Tenant resolution by host name: a tenant's own domain serves its portal without /t/{slug}/.

The middleware rewrites ``/x`` to ``/t/{slug}/x`` (and ``/api/v1/x`` to
``/api/v1/t/{slug}/x``) before routing, so one set of routes serves both forms.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, cast

import anyio
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import select

from core.db import Database
from core.tenancy import Tenant, TenantDomain

log = logging.getLogger("govhall.web")

_PLATFORM_PREFIXES = (
    "/t/",
    "/static/",
    "/healthz",
    "/oauth/",
    "/.well-known/",
    "/schema",
    "/lang/",
)


class HostMap:
    """host → slug, refreshed at most every ``ttl`` seconds — in a worker thread, never on the
    event loop: a read there that waited for a pooled connection stopped the whole process,
    including the clean-up that gives connections back (docs/performance.md, "Load")."""

    def __init__(self, database: Database, ttl: float = 30.0) -> None:
        self.database = database
        self.ttl = ttl
        self._map: dict[str, str] = {}
        self._loaded = 0.0
        self._lock = threading.Lock()
        self._refreshing = False

    async def slug_for(self, host: str) -> str | None:
        if time.monotonic() - self._loaded > self.ttl and not self._refreshing:
            # one refresh at a time; the requests meanwhile use the map as it was
            self._refreshing = True
            try:
                await anyio.to_thread.run_sync(self._refresh_or_keep)
            finally:
                self._refreshing = False
        return self._map.get(host.split(":", 1)[0].lower())

    def _refresh_or_keep(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # the database out of reach: serve the map we have
            self._loaded = time.monotonic() - self.ttl + 5.0  # and ask again in 5 s
            log.warning("tenant domains not refreshed: %s", str(exc)[:200])

    def refresh(self) -> None:
        with self._lock, self.database.session(scope=None) as session:
            rows = session.execute(
                select(TenantDomain.host, Tenant.slug).join(
                    Tenant, Tenant.id == TenantDomain.tenant_id
                )
            ).all()
            self._map = {host: slug for host, slug in rows}
            self._loaded = time.monotonic()


class HostRouting:
    """Wraps the Litestar app: Litestar's own middleware runs after routing, too late to
    choose the route, so this rewrite sits outside it. Attribute access reaches the app."""

    def __init__(self, app: ASGIApp, hosts: HostMap) -> None:
        self.app = app
        self.hosts = hosts

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) == "http":
            host = ""
            for key, value in scope.get("headers") or []:
                if key == b"host":
                    host = value.decode("latin-1")
                    break
            path: str = scope["path"]
            slug = await self.hosts.slug_for(host) if host else None
            if slug and not path.startswith(_PLATFORM_PREFIXES):
                if path.startswith("/api/v1/") and not path.startswith("/api/v1/t/"):
                    new = f"/api/v1/t/{slug}/" + path.removeprefix("/api/v1/")
                elif not path.startswith("/api/"):
                    new = f"/t/{slug}{path}"
                else:
                    new = path
                scope = cast(Scope, {**scope, "path": new, "raw_path": new.encode()})
        await self.app(scope, receive, send)

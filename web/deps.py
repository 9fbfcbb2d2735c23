"""Request-scoped dependencies: the tenant from the path, its database session, the principal."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import anyio
from litestar import Request
from litestar.datastructures import State

from core.audit import ORIGIN_KEY
from core.db import Database
from core.identity import Principal
from core.tenancy import (
    Tenant,
    TenantNotFound,
    TenantStatus,
    TenantSuspended,
    get_tenant_by_slug,
    scope_for,
)
from web.api.scoped import check_scope
from web.auth import api_principal, page_principal

__all__ = ["provide_db", "provide_principal", "provide_tenant", "tenant_of_path"]


_TENANT_TTL = 2.0
_tenant_cache: dict[tuple[int, str], tuple[float, Tenant]] = {}


def _cached(database: Database, slug: str) -> Tenant | None:
    hit = _tenant_cache.get((id(database), slug))
    if hit is not None and time.monotonic() - hit[0] < _TENANT_TTL:
        return hit[1]
    return None


def _lookup(database: Database, slug: str) -> Tenant:
    """Tenants change rarely and are read on every request: keep them for a couple of
    seconds (a suspension takes effect within that)."""
    key = (id(database), slug)
    cached = _cached(database, slug)
    if cached is not None:
        return cached
    now = time.monotonic()
    with database.session(scope=None) as session:
        tenant = get_tenant_by_slug(session, slug)
    if len(_tenant_cache) > 10_000:
        _tenant_cache.clear()
    _tenant_cache[key] = (now, tenant)
    return tenant


def forget_tenants() -> None:
    _tenant_cache.clear()


def tenant_of_path(request: Request[Any, Any, Any]) -> Tenant | None:
    """The active tenant a request's path names (``/t/{slug}/``), for an error raised before
    the route's own dependencies ran (an unknown page, a refused method, a body too large);
    None outside a tenant or for one that is unknown or suspended."""
    tenant = request.scope.get("state", {}).get("tenant")
    if tenant is not None:
        return tenant if isinstance(tenant, Tenant) else None
    path = request.scope.get("path", "")
    if not path.startswith("/t/"):
        return None
    slug = path[3:].split("/", 1)[0]
    database = request.app.state.database
    # An error page is made on the event loop: the tenant as last read, however old, rather
    # than a database read there (one waiting for a pooled connection stalls the process);
    # read only for a tenant this process has never seen.
    known = _tenant_cache.get((id(database), slug))
    try:
        tenant = known[1] if known is not None else _lookup(database, slug)
    except Exception:  # an error page must not fail over its layout
        return None
    return tenant if tenant.status is TenantStatus.active else None


#: what an onboarding tenant shows to anyone: its staff sign-in, the first sign-in's own
#: password (and dynamic code) setup, and its logo, so that its first admin can sign in
#: before it opens
_OPEN_WHILE_ONBOARDING = ("staff/login", "staff/logout", "staff/setup", "branding/logo")


def _may_see_onboarding(
    request: Request[Any, Any, Any], database: Database, tenant: Tenant
) -> bool:
    """A tenant not yet open is seen only by its own staff and by the staff of the city or
    province above it (their signed session says where they signed in), and on the page
    where its staff sign in."""
    path = request.scope.get("path", "")
    rest = path.split(f"/t/{tenant.slug}/", 1)[1] if f"/t/{tenant.slug}/" in path else ""
    if rest.startswith(_OPEN_WHILE_ONBOARDING):
        return True
    session = request.scope.get("session")
    if isinstance(session, dict) and session.get("kind") == "staff":
        allowed = {str(tenant.id), str(tenant.province_id)}
        if tenant.parent_id is not None:
            allowed.add(str(tenant.parent_id))
        if session.get("tenant") in allowed:
            return True
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        with database.session(scope=scope_for(tenant)) as db:
            principal = api_principal(request, db, tenant)
        return principal is not None and principal.is_staff
    return False


async def provide_tenant(slug: str, state: State, request: Request[Any, Any, Any]) -> Tenant:
    """The tenant named in the path; unknown → 404, suspended → 403 page; one still being
    onboarded is a 404 to everyone but its staff and those above it.

    Answered on the event loop from the cache; a miss (every couple of seconds) reads the
    database in a worker thread. Read on the loop, a miss while every pooled connection was
    taken blocked the loop in the pool's wait — and the connections are given back by the
    requests' clean-up, which runs on the loop: the whole process stood still until the
    pool's timeout (the load bench at 500 clients, docs/performance.md)."""
    database: Database = state.database
    tenant = _cached(database, slug)
    if tenant is None:
        tenant = await anyio.to_thread.run_sync(_lookup, database, slug)
    if tenant.status is TenantStatus.suspended:
        raise TenantSuspended(f"{tenant.name}的网上办事大厅已暂停服务")
    if tenant.status is TenantStatus.onboarding and not await anyio.to_thread.run_sync(
        _may_see_onboarding, request, database, tenant
    ):
        raise TenantNotFound("没有这个地区的网上办事大厅，请从平台首页选择")
    request.scope.setdefault("state", {})["tenant"] = tenant
    return tenant


def provide_db(tenant: Tenant, state: State) -> Generator[Any, None, None]:
    """A session in the tenant's scope; rolled back unless a service committed."""
    database: Database = state.database
    with database.session(scope=scope_for(tenant)) as session:
        yield session


def _names_someone(request: Request[Any, Any, Any]) -> bool:
    """Whether the request carries a bearer token or a session naming a person: only then
    is the database asked who it is."""
    if request.url.path.startswith("/api/"):
        return bool(request.headers.get("authorization", "").strip())
    session = request.scope.get("session")
    return isinstance(session, dict) and bool(session.get("kind") and session.get("sub"))


def _principal_of(request: Request[Any, Any, Any], db: Any, tenant: Tenant) -> Principal | None:
    if request.url.path.startswith("/api/"):
        return api_principal(request, db, tenant)
    return page_principal(request, db, tenant)


async def provide_principal(
    request: Request[Any, Any, Any], db: Any, tenant: Tenant
) -> Principal | None:
    """Who is asking. A visitor nobody names is answered on the event loop; anyone else is
    read from the database in a worker thread — waiting there for a pooled connection (up to
    the pool's timeout when every one is busy) holds up that request only, never the whole
    process, as it did when this read ran on the loop."""
    principal = (
        await anyio.to_thread.run_sync(_principal_of, request, db, tenant)
        if _names_someone(request)
        else None
    )
    if request.url.path.startswith("/api/"):
        check_scope(request, principal)
    request.scope.setdefault("state", {})["principal"] = principal
    # the audit log records where an administrative change came from
    db.info[ORIGIN_KEY] = request.client.host if request.client else ""
    return principal

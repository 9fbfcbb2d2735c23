"""Every API route says which token scope it needs, and OpenAPI shows it.

``@get("/cases", **needs("cases:read"))`` — a bearer token must carry that scope (or one of
several given as a tuple) on top of the person's roles; ``**anyone()`` marks a route that
needs no token at all (its own credential — a query code, a signed link, a vendor's
signature — or none). A token whose scopes fall short gets 403 ``insufficient_scope``
(:func:`check_scope`, called where the principal is resolved). A test walks the app and
fails on any API route that declares neither.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.errors import NotAuthenticated
from core.identity import Principal
from core.identity.errors import InsufficientScope
from core.identity.scopes import API_SCOPES, covers

__all__ = ["ANY_API_SCOPE", "SCHEME", "anyone", "check_scope", "needs", "token_first"]

#: the OpenAPI security scheme's name
SCHEME = "govhall_oauth"
#: for routes any API token may call (``/me``): any one API scope will do
ANY_API_SCOPE = tuple(API_SCOPES)
_UNDECLARED = object()


def needs(scope: str | tuple[str, ...]) -> dict[str, Any]:
    options = (scope,) if isinstance(scope, str) else scope
    unknown = [s for s in options if s not in API_SCOPES]
    if unknown:
        raise ValueError(f"unknown API scope {unknown}")
    return {"opt": {"scope": options}, "security": [{SCHEME: [s]} for s in options]}


def anyone() -> dict[str, Any]:
    return {"opt": {"scope": None}, "security": []}


def check_scope(request: Request[Any, Any, Any], principal: Principal | None) -> None:
    """Refuse a token that lacks the route's scope (a browser session has no scopes)."""
    if principal is None or principal.scopes is None:
        return
    needed = request.route_handler.opt.get("scope", _UNDECLARED)
    if needed is None:
        return
    if needed is _UNDECLARED:  # a route nobody thought about: no token opens it
        raise InsufficientScope("admin")
    if not covers(principal.scopes, needed):
        raise InsufficientScope(needed)


def token_first(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """A guard: a route that needs a token answers 401 to a request without one before its
    body is read — a body checked first told anyone the API's fields one by one."""
    if handler.opt.get("scope", _UNDECLARED) is None:  # anyone(): its own credential or none
        return
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("请先登录")

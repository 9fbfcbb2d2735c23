"""Public pages kept for a few seconds for visitors who are not signed in.

A signed-out visitor's item guide or search results are the same for everyone but for the
CSRF token the layout carries (for htmx's requests and the sign-in forms): rendering them
once and keeping them in the per-process memo (``core.db.remembered``, two seconds, forgotten
at once when this process commits a change to a watched table) means a popular guide is
rendered once, not once per visitor. The kept bytes have a hole where the token was; each
visitor's own token is put back in.

Kept only when the view is the one every signed-out visitor gets: nobody signed in (no
session naming a person — those visitors see their name, their favourites, their messages),
no signed message in the query, no county entered by a province admin.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from litestar import Request
from litestar.utils.scope.state import ScopeState
from sqlalchemy.orm import Session

from core.db import remembered
from core.identity import Principal
from core.tenancy import Tenant
from web.templating import lang_of

__all__ = ["kept_page"]

T = TypeVar("T")
#: where a kept page had its visitor's CSRF token; filled with the next visitor's own
_TOKEN_HOLE = b"\x00csrf-token\x00"
#: query parameters that make a view personal (a signed message from a redirect)
_PERSONAL = ("msg", "error", "sig")


def _keepable(request: Request[Any, Any, Any], principal: Principal | None) -> bool:
    session = request.scope.get("session")
    return (
        principal is None
        and not any(key in request.query_params for key in _PERSONAL)
        and not (isinstance(session, dict) and (session.get("sub") or session.get("entered")))
    )


def kept_page(
    request: Request[Any, Any, Any],
    db: Session,
    tenant: Tenant,
    principal: Principal | None,
    namespace: str,
    make: Callable[[], tuple[bytes, T]],
) -> tuple[bytes, T]:
    """``make()``'s page bytes (and what else it returns), from the memo when this view is
    the one every signed-out visitor gets — keyed by everything else a page varies on: the
    tenant, the language and elder-mode cookies, the host, the path and query, and whether
    htmx asked for a fragment."""
    token = ScopeState.from_scope(request.scope).csrf_token
    if not (isinstance(token, str) and token) or not _keepable(request, principal):
        return make()
    key: tuple[Hashable, ...] = (
        namespace,
        tenant.id,
        lang_of(request),
        request.cookies.get("elder") == "1",
        request.headers.get("host", ""),
        request.headers.get("hx-request") == "true",
        request.url.path,
        request.url.query,
    )
    own = token.encode()

    def holed() -> tuple[bytes, T]:
        body, extra = make()
        return body.replace(own, _TOKEN_HOLE), extra

    body, extra = remembered(db, key, holed)
    return body.replace(_TOKEN_HOLE, own), extra

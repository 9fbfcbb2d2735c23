"""Platform pages outside any tenant: the home listing provinces, health, language switch."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.response import Redirect, Template

from core.config import get_settings
from core.db import Database
from core.tenancy import TenantKind, TenantStatus, list_tenants
from web.i18n import LANGUAGES
from web.templating import page


@get("/", name="platform_home", sync_to_thread=True, include_in_schema=False)
def platform_home(request: Request[Any, Any, Any], state: State) -> Template:
    database: Database = state.database
    with database.session(scope=None) as session:
        tenants = [t for t in list_tenants(session) if t.status is not TenantStatus.onboarding]
    provinces = [t for t in tenants if t.kind is TenantKind.province]
    ids = {t.id for t in tenants}
    # every city and county of the province, a county under its city (by division code: a
    # city's 4512 comes before its counties' 4512xx), marked nested when its parent is listed
    children = {
        p.id: [
            (t, t.parent_id != p.id and t.parent_id in ids)
            for t in sorted(tenants, key=lambda t: t.division_code)
            if t.province_id == p.id and t.kind is not TenantKind.province
        ]
        for p in provinces
    }
    return page(request, "platform/home.html", provinces=provinces, children=children)


@get("/favicon.ico", name="favicon", include_in_schema=False)
async def favicon() -> Redirect:
    """Browsers ask for /favicon.ico on their own: the icon is the SVG under /static."""
    return Redirect("/static/favicon.svg", status_code=301)


@get("/healthz", name="healthz", sync_to_thread=True, include_in_schema=True)
def healthz(state: State) -> Response[dict[str, str]]:
    """Liveness and readiness: 200 when the database answers, 503 when it does not."""
    database: Database = state.database
    try:
        database.ping()
    except Exception:
        return Response({"status": "unavailable", "database": "down"}, status_code=503)
    return Response({"status": "ok", "database": "ok"})


def _local(next: str) -> str:
    """Only local paths: never an open redirect."""
    ok = next.startswith("/") and not next.startswith("//") and "\\" not in next
    return next if ok else "/"


def _preference() -> dict[str, Any]:
    """A preference cookie kept for a year; Secure where the site is https, like the session's
    and the CSRF token's (web/app.py)."""
    https = get_settings().base_url.startswith("https://")
    return {"max_age": 365 * 86400, "samesite": "lax", "httponly": True, "secure": https}


@get("/elder/{mode:str}", name="set_elder_mode", include_in_schema=False)
async def set_elder_mode(mode: str, next: str = "/") -> Redirect:
    """长辈版: larger type and stronger contrast, kept in a cookie for a year."""
    response = Redirect(_local(next))
    if mode == "on":
        response.set_cookie("elder", "1", **_preference())
    else:
        response.delete_cookie("elder")
    return response


@get("/lang/{lang:str}", name="set_language", include_in_schema=False)
async def set_language(lang: str, next: str = "/") -> Redirect:
    if lang not in LANGUAGES:
        lang = "zh"
    response = Redirect(_local(next))
    response.set_cookie("lang", lang, **_preference())
    return response

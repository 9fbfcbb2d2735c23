"""``create_app()``: all the wiring of the web application, in one place."""

from __future__ import annotations

import base64
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.concurrency import set_asyncio_executor
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, OAuthFlow, OAuthFlows, SecurityScheme
from litestar.static_files import create_static_files_router

import core
import workers.actors  # noqa: F401 - registers the actors and the outbox dispatcher
from core.config import Settings, get_settings
from core.db import Database, get_database
from core.effects import install as install_effects
from core.identity.scopes import SCOPE_LABELS
from core.plugins import get_plugin_manager
from core.plugins.status import record_loaded, startup_report
from web import oidc
from web.api.audit import AuditApi
from web.api.bundles import BundlesApi
from web.api.case_materials import CaseMaterialsApi
from web.api.case_public import CasePublicApi
from web.api.cases import CasesApi
from web.api.catalog import CatalogApi
from web.api.consult import ConsultApi
from web.api.dashboards import DashboardApi
from web.api.departments import DepartmentsApi
from web.api.payments import PaymentsApi
from web.api.scoped import SCHEME, token_first
from web.api.sms import SmsWebhooks
from web.api.supervision import SupervisionApi
from web.api.tenant import TenantApi
from web.deps import provide_db, provide_principal, provide_tenant
from web.errors import EXCEPTION_HANDLERS
from web.hosts import HostMap, HostRouting
from web.pages.adoption import AdoptionPages
from web.pages.announcements import AnnouncementAdminPages, AnnouncementPages
from web.pages.audit import AuditAdminPages, AuditConsolePages
from web.pages.bundles import BundlePages
from web.pages.calendar_admin import CalendarController
from web.pages.case_forms import CaseFormPages
from web.pages.cases import CasePages
from web.pages.catalog import CatalogController
from web.pages.catalog_admin import CatalogAdminController
from web.pages.chief_admin import ChiefAdminPages
from web.pages.console import ConsoleController
from web.pages.consult import ConsultPages
from web.pages.divisions import DivisionPages
from web.pages.my import MyPages
from web.pages.people_admin import EnterCountyPages, PeopleAdminPages
from web.pages.platform import favicon, healthz, platform_home, set_elder_mode, set_language
from web.pages.plugins_admin import PluginAdminPages
from web.pages.portal import PortalController
from web.pages.seals_admin import SealsAdminPages
from web.pages.staff import StaffController
from web.pages.staff_setup import StaffSetupPages
from web.pages.supervision import SupervisionPages
from web.pages.units_admin import UnitAdminPages
from web.pages.workbench import WorkbenchPages
from web.schema_ui import LocalSwagger
from web.shedding import Admission
from web.templating import template_config

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("govhall.web")


def _key(secret: str, purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{secret}".encode()).digest()


#: our pages load scripts, styles and images from this origin only; a stored attack that got
#: past escaping still could not run inline script or reach another origin
PAGE_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


#: Routes that take no CSRF token, as whole anchored paths: Litestar searches each pattern
#: anywhere in the path, so a bare "/schema" exempted a tenant called "schemaxian". The API
#: authenticates by bearer token only (never the session cookie), the token and userinfo
#: endpoints by client credentials or token.
CSRF_EXEMPT = [
    r"^/api/",
    r"^/oauth/token$",
    r"^/oauth/userinfo$",
    r"^/healthz$",
    r"^/schema(/.*)?$",
]


def _personal(scope: Any) -> bool:
    """Whether a request is someone's: a session naming a person, or a bearer token."""
    session = scope.get("session")
    if isinstance(session, dict) and session.get("sub"):
        return True
    return any(k.lower() == b"authorization" for k, _ in scope.get("headers") or ())


def _security_headers(https: bool) -> Any:
    """The headers every response carries; HSTS only where the base URL is https (a browser
    would otherwise refuse the plain-http development server for a year)."""
    always = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if https:
        always.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def add_headers(message: Any, scope: Any) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            names = {k.lower() for k, _ in headers}
            is_html = any(
                k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers
            )
            if is_html and b"content-security-policy" not in names:
                headers.append((b"content-security-policy", PAGE_CSP))
            if b"cache-control" not in names and _personal(scope):
                # a signed-in person's page or answer stays out of every cache, the browser's
                # own too (a counter's shared computer: the back button after signing out)
                headers.append((b"cache-control", b"no-store"))
            headers.extend((name, value) for name, value in always if name not in names)
            message["headers"] = headers

    return add_headers


def _json_api(settings: Settings) -> Router:
    """The JSON API's controllers, whose request bodies are JSON and so bounded by
    ``GOVHALL_MAX_JSON_BYTES`` (the material upload, streamed and counted against
    ``GOVHALL_MAX_UPLOAD_BYTES`` as it arrives, says so on its own route; the vendors'
    webhooks carry their own limits)."""
    return Router(
        path="/",
        route_handlers=[
            TenantApi,
            CatalogApi,
            CasesApi,
            CaseMaterialsApi,
            CasePublicApi,
            SupervisionApi,
            ConsultApi,
            DashboardApi,
            BundlesApi,
            DepartmentsApi,
            AuditApi,
        ],
        request_max_body_size=settings.max_json_bytes,
        guards=[token_first],  # no token, no reading of the body
    )


def _oauth_scheme(settings: Settings) -> SecurityScheme:
    """Bearer tokens from `govhall tokens issue` or the OAuth 2.0 provider, with the scopes."""
    base = settings.base_url.rstrip("/")
    scopes = {**SCOPE_LABELS}
    return SecurityScheme(
        type="oauth2",
        description="Authorization: Bearer <token>; the token's scopes limit what it reaches.",
        flows=OAuthFlows(
            authorization_code=OAuthFlow(
                authorization_url=f"{base}/oauth/authorize",
                token_url=f"{base}/oauth/token",
                scopes=scopes,
            ),
            client_credentials=OAuthFlow(token_url=f"{base}/oauth/token", scopes=scopes),
        ),
    )


def _check_tenant_plugins(database: Database) -> None:
    """A plugin a county enabled that is not installed (or not compatible): a warning per
    county now, its items 暂停办理 (docs/plugin-health.md). Never stops the start."""
    try:
        startup_report(database)
        record_loaded()  # for `govhall plugins check`: what this server runs with
    except Exception:
        log.exception("could not check the counties' plugins")


_executors: dict[int, ThreadPoolExecutor] = {}


def _request_threads(threads: int) -> None:
    """The threads page and API handlers run in: ``GOVHALL_WEB_THREADS`` of them (asyncio's
    default would be the cores plus four), one pool per process however many apps a test
    makes. The database pool holds twice as many connections (core/db/_session.py)."""
    if threads not in _executors:
        _executors[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="web")
    set_asyncio_executor(_executors[threads])


def create_app(settings: Settings | None = None, database: Database | None = None) -> Any:
    """The ASGI application: Litestar behind tenant routing by host name."""
    settings = settings or get_settings()
    install_effects()
    problems = settings.check()
    if problems and settings.is_production:
        raise RuntimeError("refusing to start: " + "; ".join(problems))
    for problem in problems:  # development runs on, with the embedded value in its place
        log.warning("setting ignored: %s", problem)
    database = database or get_database()
    key_problem = database.scope_key_problem()
    if key_problem:
        if settings.is_production:
            raise RuntimeError("refusing to start: " + key_problem)
        log.error("%s", key_problem)
    get_plugin_manager()  # loads entry points and runs check_pending(): a bad plugin fails here
    _check_tenant_plugins(database)
    _request_threads(settings.web_threads)
    hosts = HostMap(database)
    secure = settings.base_url.startswith("https://")

    session_config = CookieBackendConfig(
        secret=_key(settings.secret_key, "session"),
        key="govhall_session",
        max_age=settings.session_max_age,
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    csrf = CSRFConfig(
        secret=base64.urlsafe_b64encode(_key(settings.secret_key, "csrf")).decode(),
        cookie_name="govhall_csrf",
        header_name="x-csrftoken",
        cookie_secure=secure,
        cookie_httponly=False,
        exclude=CSRF_EXEMPT,
    )
    app = Litestar(
        route_handlers=[
            platform_home,
            favicon,
            healthz,
            set_language,
            set_elder_mode,
            PortalController,
            CatalogController,
            CatalogAdminController,
            AdoptionPages,
            CalendarController,
            AnnouncementAdminPages,
            AnnouncementPages,
            SealsAdminPages,
            ChiefAdminPages,
            PeopleAdminPages,
            UnitAdminPages,
            EnterCountyPages,
            StaffSetupPages,
            AuditAdminPages,
            AuditConsolePages,
            ConsoleController,
            StaffController,
            SupervisionPages,
            BundlePages,
            PluginAdminPages,
            CasePages,
            CaseFormPages,
            MyPages,
            DivisionPages,
            WorkbenchPages,
            ConsultPages,
            _json_api(settings),
            PaymentsApi,
            SmsWebhooks,
            *oidc.ROUTES,
            create_static_files_router(
                path="/static", directories=[STATIC], include_in_schema=False
            ),
        ],
        dependencies={
            # The tenant comes from a short-lived cache, on the event loop (a thread hop costs
            # more, see docs/performance.md; a miss reads it in a thread); the principal is
            # read on the loop only for a
            # visitor nobody names, else in a thread — a database read on the loop stalled
            # the whole process while the connection pool was exhausted (docs/performance.md,
            # "Load").
            "tenant": Provide(provide_tenant),
            "db": Provide(provide_db),
            "principal": Provide(provide_principal),
        },
        middleware=[session_config.middleware],
        csrf_config=csrf,
        template_config=template_config(),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="govhall API",
            version=core.__version__,
            description="The JSON API of govhall; every error is "
            '`{"error": CODE, "detail": TEXT}`. Each operation lists the token scope it needs '
            "under `security`; a token without it gets 403 `insufficient_scope`.",
            path="/schema",
            render_plugins=[LocalSwagger()],  # from our origin, under the pages' CSP
            components=Components(security_schemes={SCHEME: _oauth_scheme(settings)}),
        ),
        state=State({"database": database, "settings": settings, "hosts": hosts}),
        request_max_body_size=settings.max_upload_bytes,
        before_send=[_security_headers(secure)],
        debug=False,
    )
    # outermost: a request refused for load costs no routing, session or database work
    return Admission(HostRouting(app, hosts), settings.max_concurrent_requests)

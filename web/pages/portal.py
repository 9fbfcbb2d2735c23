"""A tenant's public portal: home, branding assets, citizen and staff sign-in."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Stream, Template
from sqlalchemy.orm import Session

from core.calendar import calendar_warnings
from core.errors import GovhallError, NotFound
from core.identity import BadCredentials, Principal, Role, staff_admin
from core.identity.errors import ResendTooSoon
from core.identity.service import (
    account_principal,
    request_sign_in_code,
    sign_in_account_with_code,
    sign_in_account_with_password,
    sign_in_code_wait,
    sign_in_staff,
    staff_principal,
)
from core.plugins import get_plugin_manager
from core.plugins.status import alerts as plugin_alerts
from core.portal import footer_facts, home_facts, published_announcements
from core.storage import get_storage
from core.tenancy import OrgUnitKind, Tenant, list_org_units
from web.auth import begin_setup_session, page_principal, sign_in_session, sign_out_session
from web.clients import client_address
from web.params import Form
from web.templating import page


def _safe_next(tenant: Tenant, value: str | None, default: str) -> str:
    """Only this tenant's pages or our own authorize endpoint: never an open redirect."""
    prefix = f"/t/{tenant.slug}/"
    if (
        value
        and value.startswith((prefix, "/oauth/authorize?"))
        and "//" not in value
        and "\\" not in value
    ):
        return value
    return default


def render(
    request: Request[Any, Any, Any], db: Session, tenant: Tenant, name: str, **ctx: Any
) -> Template:
    """A tenant page, with the variables of the tenant's enabled plugins."""
    plugin_vars: dict[str, Any] = {}
    for extra in (
        get_plugin_manager().for_tenant(db, tenant).call("extra_template_vars", template=name)
    ):
        if isinstance(extra, dict):
            plugin_vars.update(extra)
    state = request.scope.setdefault("state", {})
    if "principal" not in state:  # handlers that do not ask for it still show who is signed in
        state["principal"] = page_principal(request, db, tenant)
    principal = state["principal"]
    warnings: list[str] = []
    if principal is not None and principal.is_staff and principal.has_role(Role.tenant_admin):
        warnings = calendar_warnings(db, tenant)
        ctx.setdefault("plugin_alerts", plugin_alerts(db, tenant))  # the admin pages' banner
    ctx.setdefault("footer_facts", footer_facts(db, tenant))  # remembered: no query per page
    return page(
        request, name, tenant=tenant, plugin_vars=plugin_vars, calendar_warnings=warnings, **ctx
    )


def _login_page(
    request: Request[Any, Any, Any],
    db: Session,
    tenant: Tenant,
    *,
    tab: str,
    data: dict[str, str] | None = None,
    next: str = "",
    exc: GovhallError | None = None,
    code_sent: bool = False,
    about: str = "",
) -> Template:
    """The citizen sign-in page with ``tab`` open (验证码 or 密码), the phone as typed and an
    error beside the field it is about (see :func:`login_error`)."""
    data = data or {}
    tab = "password" if tab == "password" else "code"
    phone = data.get("phone", "")
    kind, field, detail = login_error(exc, about or ("password" if tab == "password" else "code"))
    return render(
        request,
        db,
        tenant,
        "auth/login.html",
        tab=tab,
        phone=phone,
        next=data.get("next", next),
        error=detail,
        error_kind=kind,
        error_field=field,
        code_sent=code_sent,
        resend_wait=sign_in_code_wait(db, tenant, phone) if phone else 0,
        status_code=exc.status if exc else 200,
    )


def login_error(exc: GovhallError | None, field: str) -> tuple[str, str, str]:
    """(kind, field, text) of a citizen sign-in error: a wrong password or code said in a
    citizen's words (the page words the kind), anything else as core words it, beside the
    field it names or else ``field``, the one the step was about."""
    if exc is None:
        return "", "", ""
    if isinstance(exc, BadCredentials):
        return f"bad_{field}", field, ""
    return "", exc.field if exc.field in ("phone", "password", "code") else field, exc.detail


class PortalController(Controller):
    path = "/t/{slug:str}"
    include_in_schema = False

    @get("/", name="portal_home", sync_to_thread=True)
    def home(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        units = list_org_units(db)
        departments = [u for u in units if u.kind is OrgUnitKind.department]
        centres = [
            u
            for u in units
            if u.kind is not OrgUnitKind.department and u.kind is not OrgUnitKind.window
        ]
        from core.cases.bundles import bundles_of

        return render(
            request,
            db,
            tenant,
            "portal/home.html",
            departments=departments,
            centres=centres,
            bundles=list(bundles_of(db, tenant).values()),
            facts=home_facts(db, tenant),
            announcements=published_announcements(db, tenant, limit=6),
        )

    @get("/stats", name="portal_stats", sync_to_thread=True)
    def stats(
        self, request: Request[Any, Any, Any], tenant: Tenant, db: Session, year: int | None = None
    ) -> Template:
        from core.supervision.stats import public_stats

        return render(
            request, db, tenant, "portal/stats.html", stats=public_stats(db, tenant, year)
        )

    @get("/privacy", name="portal_privacy", sync_to_thread=True)
    def privacy(self, request: Request[Any, Any, Any], tenant: Tenant, db: Session) -> Template:
        """用户服务协议和隐私政策: what personal data the hall keeps, why, and how."""
        return render(request, db, tenant, "portal/privacy.html")

    @get("/branding/logo", name="portal_logo", sync_to_thread=True)
    def logo(self, tenant: Tenant) -> Response[Any]:
        key = tenant.branding.get("logo")
        storage = get_storage()
        info = storage.stat(key) if isinstance(key, str) and key else None
        if info is None:
            raise NotFound("没有徽标")
        return Stream(
            storage.open(info.key),
            media_type=info.content_type,
            headers={
                "Cache-Control": "public, max-age=300",
                # An SVG opened directly must not run script.
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                "X-Content-Type-Options": "nosniff",
            },
        )

    # -- citizens ---------------------------------------------------------------------------

    @get("/login", name="portal_login", sync_to_thread=True)
    def login_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        next: str | None = None,
        tab: str | None = None,
    ) -> Template:
        return _login_page(request, db, tenant, tab=tab or "code", next=next or "")

    @post("/login/password", name="portal_login_password", sync_to_thread=True)
    def login_password(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        data: Form,
    ) -> Template | Redirect:
        try:
            account = sign_in_account_with_password(
                db,
                tenant,
                data.get("phone", ""),
                data.get("password", ""),
                address=client_address(request),
            )
        except GovhallError as exc:
            db.commit()  # keep the failure count
            return _login_page(request, db, tenant, tab="password", data=data, exc=exc)
        db.commit()
        sign_in_session(request, tenant, account_principal(account))
        return Redirect(_safe_next(tenant, data.get("next"), f"/t/{tenant.slug}/"))

    @post("/login/code/request", name="portal_login_code_request", sync_to_thread=True)
    def request_code(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        data: Form,
    ) -> Template:
        """Send a code: htmx gets the status line (and the countdown), a browser without
        script the whole page with the code panel open."""
        phone = data.get("phone", "")
        error: GovhallError | None = None
        try:
            request_sign_in_code(db, tenant, phone, address=client_address(request))
            db.commit()
        except GovhallError as exc:
            db.rollback()
            error = exc
        wait = error.retry_after if isinstance(error, ResendTooSoon) else 0
        if not error:
            wait = sign_in_code_wait(db, tenant, phone)
        if request.headers.get("hx-request") != "true":
            return _login_page(
                request,
                db,
                tenant,
                tab="code",
                data=data,
                exc=error,
                code_sent=not error,
                about="phone",
            )
        return render(
            request,
            db,
            tenant,
            "auth/_code_sent.html",
            phone=phone,
            error=error.detail if error else None,
            resend_wait=wait,
            status_code=200,  # htmx swaps 200s only: the message is the answer
        )

    @post("/login/code", name="portal_login_code", sync_to_thread=True)
    def login_code(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        data: Form,
    ) -> Template | Redirect:
        try:
            account = sign_in_account_with_code(
                db,
                tenant,
                data.get("phone", ""),
                data.get("code", ""),
                address=client_address(request),
            )
        except GovhallError as exc:
            db.commit()
            return _login_page(request, db, tenant, tab="code", data=data, exc=exc)
        db.commit()
        sign_in_session(request, tenant, account_principal(account))
        return Redirect(_safe_next(tenant, data.get("next"), f"/t/{tenant.slug}/"))

    @post("/logout", name="portal_logout", sync_to_thread=True)
    def logout(self, request: Request[Any, Any, Any], tenant: Tenant, db: Session) -> Redirect:
        sign_out_session(request, db, tenant)
        return Redirect(f"/t/{tenant.slug}/")

    # -- staff ----------------------------------------------------------------------------

    @get("/staff/login", name="staff_login", sync_to_thread=True)
    def staff_login_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        next: str | None = None,
    ) -> Template:
        return render(
            request, db, tenant, "auth/staff_login.html", next=next or "", error=None, username=""
        )

    @post("/staff/login", name="staff_login_post", sync_to_thread=True)
    def staff_login(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        data: Form,
    ) -> Template | Redirect:
        try:
            staff = sign_in_staff(
                db,
                tenant,
                data.get("username", ""),
                data.get("password", ""),
                data.get("totp", ""),
                address=client_address(request),
            )
        except GovhallError as exc:
            db.commit()
            return render(
                request,
                db,
                tenant,
                "auth/staff_login.html",
                error=exc.detail,
                username=data.get("username", ""),
                next=data.get("next", ""),
                status_code=exc.status,
            )
        if staff_admin.needs_setup(staff):  # a temporary password, a dynamic code to enrol
            staff_admin.begin_setup(staff)
            db.commit()
            begin_setup_session(request, tenant, staff)
            return Redirect(f"/t/{tenant.slug}/staff/setup")
        db.commit()
        principal = staff_principal(db, tenant, staff)
        sign_in_session(request, tenant, principal)
        return Redirect(_safe_next(tenant, data.get("next"), f"/t/{tenant.slug}/workbench"))

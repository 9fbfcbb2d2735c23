"""A tenant's public portal: home, branding assets, citizen and staff sign-in."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Stream, Template
from sqlalchemy.orm import Session

from core.calendar import calendar_warnings
from core.errors import GovhallError, NotFound
from core.identity import Principal, Role
from core.identity.service import (
    account_principal,
    request_sign_in_code,
    sign_in_account_with_code,
    sign_in_account_with_password,
    sign_in_staff,
    staff_principal,
)
from core.plugins import get_plugin_manager
from core.portal import footer_facts, home_facts, published_announcements
from core.storage import get_storage
from core.tenancy import OrgUnitKind, Tenant, list_org_units
from web.auth import page_principal, sign_in_session, sign_out_session
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
    ctx.setdefault("footer_facts", footer_facts(db, tenant))  # remembered: no query per page
    return page(
        request, name, tenant=tenant, plugin_vars=plugin_vars, calendar_warnings=warnings, **ctx
    )


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
    ) -> Template:
        return render(request, db, tenant, "auth/login.html", next=next or "", error=None, phone="")

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
                db, tenant, data.get("phone", ""), data.get("password", "")
            )
        except GovhallError as exc:
            db.commit()  # keep the failure count
            return render(
                request,
                db,
                tenant,
                "auth/login.html",
                error=exc.detail,
                phone=data.get("phone", ""),
                next=data.get("next", ""),
                status_code=exc.status,
            )
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
        """htmx: send a code, answer with the code-entry fragment."""
        phone = data.get("phone", "")
        try:
            request_sign_in_code(db, tenant, phone, address=client_address(request))
            db.commit()
            return render(request, db, tenant, "auth/_code_sent.html", phone=phone, error=None)
        except GovhallError as exc:
            db.rollback()
            return render(
                request,
                db,
                tenant,
                "auth/_code_sent.html",
                phone=phone,
                error=exc.detail,
                status_code=200,
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
                db, tenant, data.get("phone", ""), data.get("code", "")
            )
        except GovhallError as exc:
            db.commit()
            return render(
                request,
                db,
                tenant,
                "auth/login.html",
                error=exc.detail,
                phone=data.get("phone", ""),
                next=data.get("next", ""),
                tab="code",
                status_code=exc.status,
            )
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
                db, tenant, data.get("username", ""), data.get("password", ""), data.get("totp", "")
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
        db.commit()
        principal = staff_principal(db, tenant, staff)
        sign_in_session(request, tenant, principal)
        return Redirect(_safe_next(tenant, data.get("next"), f"/t/{tenant.slug}/workbench"))

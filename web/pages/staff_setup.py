"""The first sign-in after a temporary password: a member of staff chooses their own password
and, when required, enrols a dynamic code (动态口令) from a QR code."""

from __future__ import annotations

import base64
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.errors import GovhallError
from core.identity import staff_admin
from core.identity.service import staff_principal
from core.tenancy import Tenant
from web.auth import (
    setup_subject,
    setup_value,
    sign_in_session,
)
from web.pages.portal import render
from web.params import Form


def _qr_data_uri(text: str, size: int = 180) -> str:
    """A QR code of ``text`` as an SVG data URI, for an authenticator app's camera."""
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(text)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    svg = renderSVG.drawToString(drawing)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


class StaffSetupPages(Controller):
    """The first sign-in after a temporary password: choose one's own password and, when the
    administrator requires it, enrol a dynamic code (动态口令) — then one is signed in."""

    path = "/t/{slug:str}/staff/setup"
    include_in_schema = False

    def _page(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        *,
        exc: GovhallError | None = None,
    ) -> Template | Redirect:
        staff = setup_subject(request, db, tenant)
        if staff is None:
            return Redirect(f"/t/{tenant.slug}/staff/login")
        secret, uri = "", ""
        if staff.totp_required and not staff.totp_secret:
            secret = setup_value(request, "totp") or setup_value(
                request, "totp", staff_admin.new_totp_secret()
            )
            uri = staff_admin.totp_uri(staff, secret, tenant.display_name)
        return render(
            request,
            db,
            tenant,
            "auth/staff_setup.html",
            staff=staff,
            secret=secret,
            uri=uri,
            qr=_qr_data_uri(uri) if uri else "",
            field=exc.field if exc else "",
            field_error=exc.detail if exc else "",
            status_code=exc.status if exc else 200,
        )

    @get("/", name="staff_setup", sync_to_thread=True)
    def show(
        self, request: Request[Any, Any, Any], tenant: Tenant, db: Session
    ) -> Template | Redirect:
        return self._page(request, db, tenant)

    @post("/", name="staff_setup_post", sync_to_thread=True)
    def finish(
        self, request: Request[Any, Any, Any], tenant: Tenant, db: Session, data: Form
    ) -> Template | Redirect:
        staff = setup_subject(request, db, tenant)
        if staff is None:
            return Redirect(f"/t/{tenant.slug}/staff/login")
        try:
            staff_admin.finish_setup(
                staff,
                password=data.get("password", ""),
                confirm=data.get("confirm", ""),
                totp_secret=setup_value(request, "totp"),
                code=data.get("code", ""),
            )
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._page(request, db, tenant, exc=exc)
        sign_in_session(request, tenant, staff_principal(db, tenant, staff))
        return Redirect(f"/t/{tenant.slug}/workbench")

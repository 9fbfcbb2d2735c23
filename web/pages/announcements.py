"""Announcements (公告): the county admin's page to write, publish, pin and unpublish them, and
the public list and pages. The body is plain text, shown escaped with its line breaks."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.audit import changed, record
from core.errors import GovhallError
from core.identity import Principal, Role
from core.portal import (
    Announcement,
    create_announcement,
    get_announcement,
    list_announcements,
    published_announcement,
    published_announcements,
    update_announcement,
)
from core.tenancy import Tenant
from web.auth import require_staff
from web.flash import with_flash
from web.pages.portal import render
from web.params import Form

#: what the admin's buttons do (the form posts one of these as ``action``)
ACTIONS = {"save": None, "publish": True, "unpublish": False}


def _admin(principal: Principal | None) -> Principal:
    return require_staff(principal, Role.tenant_admin)


class AnnouncementAdminPages(Controller):
    path = "/t/{slug:str}/admin/announcements"
    include_in_schema = False

    def _list(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        *,
        form: dict[str, str] | None = None,
        error: str = "",
        error_field: str = "",
        msg: str = "",
    ) -> Template:
        return render(
            request,
            db,
            tenant,
            "admin/announcements.html",
            rows=list_announcements(db, tenant),
            form=form or {},
            error=error,
            error_field=error_field,
            msg=msg,
            status_code=422 if error else 200,
        )

    @get("/", name="announcements_admin", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        msg: str | None = None,
    ) -> Template:
        _admin(principal)
        return self._list(request, db, tenant, msg=msg or "")

    @post("/", name="announcements_create", sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        me = _admin(principal)
        try:
            row = create_announcement(
                db,
                tenant,
                title=data.get("title", ""),
                body=data.get("body", ""),
                published=data.get("action") == "publish",
                pinned=bool(data.get("pinned")),
            )
            record(
                db,
                tenant,
                me,
                "announcement.change",
                target_type="announcement",
                target_id=row.id,
                target_label=row.title,
                after=_snapshot(row),
                reason="新建公告",
            )
        except GovhallError as exc:
            db.rollback()
            return self._list(
                request, db, tenant, form=data, error=exc.detail, error_field=exc.field or ""
            )
        db.commit()
        done = "saved_published" if data.get("action") == "publish" else "saved"
        return Redirect(with_flash(f"/t/{tenant.slug}/admin/announcements/", msg=done))

    @get("/{announcement_id:uuid}", name="announcement_edit", sync_to_thread=True)
    def edit(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        announcement_id: uuid.UUID,
    ) -> Template:
        _admin(principal)
        row = get_announcement(db, tenant, announcement_id)
        return render(
            request,
            db,
            tenant,
            "admin/announcement_edit.html",
            row=row,
            form={"title": row.title, "body": row.body, "pinned": "on" if row.pinned else ""},
            error="",
            error_field="",
        )

    @post("/{announcement_id:uuid}", name="announcement_update", sync_to_thread=True)
    def update(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        announcement_id: uuid.UUID,
        data: Form,
    ) -> Template | Redirect:
        me = _admin(principal)
        action = data.get("action", "save")
        row = get_announcement(db, tenant, announcement_id)
        was = _snapshot(row)
        try:
            if action == "unpublish":  # from the list: only the flag changes
                update_announcement(db, tenant, row.id, published=False)
            else:
                update_announcement(
                    db,
                    tenant,
                    row.id,
                    title=data.get("title", ""),
                    body=data.get("body", ""),
                    pinned=bool(data.get("pinned")),
                    published=ACTIONS.get(action),
                )
            before, after = changed(was, _snapshot(row))
            if before or after:
                record(
                    db,
                    tenant,
                    me,
                    "announcement.change",
                    target_type="announcement",
                    target_id=row.id,
                    target_label=row.title,
                    before=before,
                    after=after,
                )
        except GovhallError as exc:
            db.rollback()
            row = get_announcement(db, tenant, announcement_id)
            return render(
                request,
                db,
                tenant,
                "admin/announcement_edit.html",
                row=row,
                form=data,
                error=exc.detail,
                error_field=exc.field or "",
                status_code=422,
            )
        db.commit()
        done = {"publish": "published", "unpublish": "unpublished"}.get(action, "saved")
        return Redirect(with_flash(f"/t/{tenant.slug}/admin/announcements/", msg=done))


def _snapshot(row: Announcement) -> dict[str, Any]:
    """What the audit log keeps of an announcement (the body shortened)."""
    body = row.body or ""
    return {
        "title": row.title,
        "body": body if len(body) <= 80 else body[:80] + "…",
        "published": row.published,
        "pinned": bool(row.pinned),
    }


class AnnouncementPages(Controller):
    path = "/t/{slug:str}/announcements"
    include_in_schema = False

    @get("/", name="announcements", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], tenant: Tenant, db: Session) -> Template:
        return render(
            request,
            db,
            tenant,
            "portal/announcements.html",
            rows=published_announcements(db, tenant),
        )

    @get("/{announcement_id:uuid}", name="announcement", sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        announcement_id: uuid.UUID,
    ) -> Template:
        row = published_announcement(db, tenant, announcement_id)
        return render(request, db, tenant, "portal/announcement.html", row=row)

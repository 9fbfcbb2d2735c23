"""The catalog editor (htmx): items with their materials, fees and responsibilities, drafts,
publication with the version diff, imports with a progress bar, exports."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Response, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalog import (
    Item,
    ItemVersion,
    VersionState,
    create_item,
    diff_versions,
    get_item_by_code,
    publish_item,
    save_draft,
    versions_of,
)
from core.catalog.forms import attach_form
from core.catalog.imports import get_import, recent_imports, start_import
from core.catalog.presentation import FIELD_LABELS
from core.catalog.service import categories, departments, draft_from_full, standard_content
from core.catalog.transfer import (
    COLUMNS,
    content_to_row,
    export_rows,
    row_to_content,
    write_csv,
    write_xlsx,
)
from core.errors import GovhallError, InvalidInput
from core.identity import Principal, Role
from core.tenancy import Tenant
from web.auth import require_staff
from web.pages.portal import render
from web.params import Form, Upload

FIELDS = [field for _, field in COLUMNS]
HEADER_OF = {field: header for header, field in COLUMNS}


def _admin(principal: Principal | None) -> Principal:
    return require_staff(principal, Role.tenant_admin, Role.province_admin)


def _names(db: Session) -> dict[str, str]:
    return {code: c.name for code, c in categories(db).items()}


def _form_from(item_code: str, content: dict[str, Any] | None, db: Session) -> dict[str, str]:
    if not content:
        return {field: "" for field in FIELDS} | {"code": item_code}
    return dict(zip(FIELDS, content_to_row(item_code, content, _names(db)), strict=True))


def _content_from(data: dict[str, str], db: Session) -> tuple[str, dict[str, Any]]:
    row = {HEADER_OF[f]: data.get(f, "") for f in FIELDS}
    return row_to_content(row, {c.name: code for code, c in categories(db).items()})


class CatalogAdminController(Controller):
    path = "/t/{slug:str}/admin/catalog"
    include_in_schema = False

    @get("/", name="catalog_admin", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        _admin(principal)
        return _index(request, db, tenant, None)

    @get("/items/{code:str}", name="catalog_edit", sync_to_thread=True)
    def edit(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
    ) -> Template:
        _admin(principal)
        item = get_item_by_code(db, tenant, code)
        versions = versions_of(db, item)
        draft = next((v for v in versions if v.state is VersionState.draft), None)
        shown = item.effective
        if draft is not None:
            shown = (
                draft.content
                if item.standard_item_id is None
                else {**standard_content(db, item), **draft.content}
            )
        return render(
            request,
            db,
            tenant,
            "admin/item_edit.html",
            item=item,
            new=False,
            form=_form_from(item.code, shown, db),
            versions=versions,
            draft=draft,
            diff=_diff(item, draft, db),
            field_labels=FIELD_LABELS,
            error=None,
            departments=departments(db, tenant),
            categories=categories(db),
        )

    @get("/new", name="catalog_new", sync_to_thread=True)
    def new(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        _admin(principal)
        return render(
            request,
            db,
            tenant,
            "admin/item_edit.html",
            item=None,
            new=True,
            form=_form_from("", None, db),
            versions=[],
            draft=None,
            diff=[],
            field_labels=FIELD_LABELS,
            error=None,
            departments=departments(db, tenant),
            categories=categories(db),
        )

    @post("/items", name="catalog_create", sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        _admin(principal)
        try:
            code, content = _content_from(data, db)
            create_item(db, tenant, code=code, content=content)
        except GovhallError as exc:
            db.rollback()
            return render(
                request,
                db,
                tenant,
                "admin/item_edit.html",
                item=None,
                new=True,
                form=data,
                versions=[],
                draft=None,
                diff=[],
                status_code=422,
                field_labels=FIELD_LABELS,
                error=exc,
                departments=departments(db, tenant),
                categories=categories(db),
            )
        db.commit()
        return Redirect(f"/t/{tenant.slug}/admin/catalog/items/{code}")

    @post("/items/{code:str}/draft", name="catalog_save_draft", sync_to_thread=True)
    def save(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        data: Form,
    ) -> Template:
        """htmx: validate and save the draft; answer with the status fragment and diff."""
        _admin(principal)
        item = get_item_by_code(db, tenant, code)
        try:
            _, content = _content_from({**data, "code": code}, db)
            content = draft_from_full(db, item, content)
            draft = save_draft(db, tenant, item, content, note=data.get("note", ""))
            db.commit()
            error = None
        except GovhallError as exc:
            db.rollback()
            draft, error = None, exc
        return render(
            request,
            db,
            tenant,
            "admin/_draft_status.html",
            item=item,
            draft=draft,
            diff=_diff(item, draft, db),
            field_labels=FIELD_LABELS,
            error=error,
            status_code=200 if error is None else 422,
        )

    @post("/items/{code:str}/publish", name="catalog_publish", sync_to_thread=True)
    def publish(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        data: Form,
    ) -> Redirect:
        _admin(principal)
        item = get_item_by_code(db, tenant, code)
        try:
            valid_from = date.fromisoformat(data["valid_from"]) if data.get("valid_from") else None
        except ValueError:
            raise InvalidInput("生效日期格式应为 YYYY-MM-DD", field="valid_from") from None
        publish_item(db, tenant, item, reason=data.get("reason", ""), valid_from=valid_from)
        db.commit()
        return Redirect(f"/t/{tenant.slug}/admin/catalog/items/{code}")

    @post("/items/{code:str}/forms", name="catalog_form_upload", sync_to_thread=True)
    def upload_form(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        data: Upload,
    ) -> Redirect:
        """Attach a form template to a material; it goes into the draft."""
        _admin(principal)
        item = get_item_by_code(db, tenant, code)
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("请选择文件", field="file")
        try:
            index = int(data.get("material", "0")) - 1
        except ValueError:
            raise InvalidInput("material must be a number", field="material") from None
        attach_form(db, tenant, item, index, upload.file.read(), upload.filename)
        db.commit()
        return Redirect(f"/t/{tenant.slug}/admin/catalog/items/{code}")

    # -- import and export ----------------------------------------------------------------

    @post("/import", name="catalog_import", sync_to_thread=True)
    def upload(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Upload,
    ) -> Template | Redirect:
        from workers.actors import run_catalog_import

        _admin(principal)
        upload = data.get("file")
        try:
            if not isinstance(upload, UploadFile):
                raise InvalidInput("请选择文件", field="file")
            job = start_import(db, tenant, upload.file.read(), upload.filename)
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return _index(request, db, tenant, exc.detail)
        run_catalog_import.send(str(tenant.id), str(job.id))
        return Redirect(f"/t/{tenant.slug}/admin/catalog/imports/{job.id}")

    @get("/imports/{job_id:uuid}", name="catalog_import_status", sync_to_thread=True)
    def progress(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        job_id: uuid.UUID,
    ) -> Template:
        _admin(principal)
        job = get_import(db, tenant, job_id)
        name = (
            "admin/_import_progress.html"
            if request.headers.get("hx-request")
            else "admin/import.html"
        )
        return render(request, db, tenant, name, job=job)

    @get("/export/{fmt:str}", name="catalog_export", sync_to_thread=True)
    def export(
        self, tenant: Tenant, db: Session, principal: Principal | None, fmt: str
    ) -> Response[bytes]:
        _admin(principal)
        if fmt not in ("csv", "xlsx"):
            raise InvalidInput("export as csv or xlsx", field="format")
        out = io.BytesIO()
        (write_csv if fmt == "csv" else write_xlsx)(export_rows(db, tenant), out)
        media = (
            "text/csv; charset=utf-8"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        return Response(
            out.getvalue(),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{tenant.slug}-catalog.{fmt}"'},
        )


def _index(
    request: Request[Any, Any, Any], db: Session, tenant: Tenant, error: str | None
) -> Template:
    items = list(db.scalars(select(Item).where(Item.tenant_id == tenant.id).order_by(Item.code)))
    drafts = set(
        db.scalars(
            select(ItemVersion.item_id).where(
                ItemVersion.tenant_id == tenant.id, ItemVersion.state == VersionState.draft
            )
        )
    )
    return render(
        request,
        db,
        tenant,
        "admin/catalog.html",
        items=items,
        drafts=drafts,
        imports=recent_imports(db, tenant),
        error=error,
        status_code=422 if error else 200,
    )


def _diff(item: Item, draft: ItemVersion | None, db: Session) -> list[tuple[str, Any, Any]]:
    if draft is None:
        return []
    new = (
        draft.content
        if item.standard_item_id is None
        else {**standard_content(db, item), **draft.content}
    )
    return diff_versions(item.effective or {}, new)

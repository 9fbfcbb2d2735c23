"""The catalog editor (htmx): items with their materials, fees and responsibilities, drafts,
publication with the version diff, imports with a progress bar, exports."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Response, Template
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
from core.catalog._rows import Lookups, content_to_cells, keep_unsaid, read_json, row_to_content
from core.catalog.content import LICENSE_TYPES
from core.catalog.forms import attach_form
from core.catalog.imports import (
    IMPORT_STATUS,
    get_import,
    job_progress,
    recent_imports,
    start_import,
)
from core.catalog.listing import admin_items
from core.catalog.presentation import FIELD_LABELS, LABELS
from core.catalog.service import categories, departments, draft_from_full, standard_content
from core.catalog.template import COLUMNS
from core.catalog.transfer import export_rows, write_csv, write_xlsx
from core.errors import GovhallError, InvalidInput
from core.forms import FIELD_TYPES, PREFILL_SOURCES, parse_form
from core.identity import Principal, Role
from core.tenancy import Tenant
from web.auth import require_staff
from web.flash import with_flash
from web.formdata import view_of
from web.pages.portal import render
from web.paging import page_number
from web.params import Form, Upload

FIELDS = [field for _, field in COLUMNS]
#: Items per page of the editor's list.
PAGE_SIZE = 50


def _admin(principal: Principal | None) -> Principal:
    return require_staff(principal, Role.tenant_admin, Role.province_admin)


def _names(db: Session) -> dict[str, str]:
    return {code: c.name for code, c in categories(db).items()}


def _form_from(item_code: str, content: dict[str, Any] | None, db: Session) -> dict[str, str]:
    if not content:
        return {field: "" for field in FIELDS} | {"code": item_code}
    return dict(zip(FIELDS, content_to_cells(item_code, content, _names(db)), strict=True))


def _content_from(
    data: dict[str, str], db: Session, tenant: Tenant, shown: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """The form's content; over an existing item's, so what the form has no input for (a
    material's form template) stays."""
    row = {f: data[f] for f in FIELDS if f in data}  # a field not posted is kept
    code, content = row_to_content(row, Lookups.load(db, tenant))
    return code, keep_unsaid(content, shown) if shown else content


def _error_text(exc: GovhallError) -> str:
    """The refusal as shown beside the form: the field's name first, unless it says it."""
    label = FIELD_LABELS.get(exc.field or "", "")
    return exc.detail if not label or label in exc.detail else f"{label}：{exc.detail}"


def _shown(db: Session, item: Item, draft: ItemVersion | None) -> dict[str, Any]:
    """What the editor shows: the draft if there is one, else the live content."""
    if draft is None:
        return dict(item.effective or {})
    if item.standard_item_id is None:
        return dict(draft.content)
    return {**standard_content(db, item), **draft.content}


def _process_names(db: Session) -> dict[str, str]:
    """Every process definition this tenant can choose, by code: built-in and its own."""
    from sqlalchemy import select

    from core.workflow.definitions import BUILT_IN
    from core.workflow.models import ProcessDefinitionRow

    names = {code: d.name for code, d in BUILT_IN.items()}
    for code, name in db.execute(select(ProcessDefinitionRow.code, ProcessDefinitionRow.name)):
        names[code] = name
    return names


def _editor_lists(db: Session, tenant: Tenant) -> dict[str, Any]:
    return {
        "process_names": _process_names(db),
        "field_labels": FIELD_LABELS,
        "departments": departments(db, tenant),
        "categories": categories(db),
        "licenses": LICENSE_TYPES,
        "field_types": FIELD_TYPES,
        "prefill_sources": PREFILL_SOURCES,
        "designer_text": DESIGNER_TEXT,
    }


#: the designer's words (form_designer.js)
DESIGNER_TEXT = {
    "type": "类型",
    "label": "名称",
    "key": "字段标识（英文小写）",
    "required": "必填",
    "personal": "个人信息（加密、脱敏）",
    "more": "更多设置：英文名称、提示、限制、预填、显示条件",
    "label_en": "英文名称",
    "help": "填写提示",
    "placeholder": "输入框示例",
    "min": "最小值（数字或日期；日期可写 today，即当天）",
    "max": "最大值（数字或日期；日期可写 today，即当天）",
    "min_length": "最少字数",
    "max_length": "最多字数",
    "pattern": "格式（正则表达式）",
    "pattern_message": "格式不符时的说明",
    "prefill": "预填来源",
    "no_prefill": "不预填",
    "options": "选项（每行：值|显示文字）",
    "show_when": "显示条件：当",
    "equals": "等于（多个值用逗号分隔；留空为已填写）",
    "always": "总是显示",
    "any_value": "留空：已填写时显示",
    "columns": "表格的列：",
    "up": "上移",
    "down": "下移",
    "remove": "删除",
    "add": "添加字段",
    "add_column": "添加一列",
    "new_label": "新字段",
    "shown_if": "仅当",
    "filled": "已填写",
}


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
        q: str = "",
        department: str = "",
        category: str = "",
        status: str = "",
        drafts: str = "",
        page: int = 1,
    ) -> Template:
        """Every item of the tenant, a page at a time, filtered and searched."""
        _admin(principal)
        filters = ListFilters(
            q=q.strip(),
            department=department,
            category=category,
            status=status,
            drafts=bool(drafts),
            page=page_number(page),
        )
        return _index(request, db, tenant, None, filters)

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
        return render(
            request,
            db,
            tenant,
            "admin/item_edit.html",
            item=item,
            new=False,
            form=_form_from(item.code, _shown(db, item, draft), db),
            versions=versions,
            draft=draft,
            diff=_diff(item, draft, db),
            error=None,
            msg=request.query_params.get("msg", ""),  # shown when signed (web/flash.py)
            **_editor_lists(db, tenant),
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
            error=None,
            **_editor_lists(db, tenant),
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
        me = _admin(principal)
        try:
            code, content = _content_from(data, db, tenant)
            create_item(db, tenant, code=code, content=content, actor=me)
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
                error=_error_text(exc),
                **_editor_lists(db, tenant),
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
        me = _admin(principal)
        item = get_item_by_code(db, tenant, code)
        current = next((v for v in versions_of(db, item) if v.state is VersionState.draft), None)
        try:
            shown = _shown(db, item, current)
            _, content = _content_from({**data, "code": code}, db, tenant, shown)
            content = draft_from_full(db, item, content)
            draft = save_draft(db, tenant, item, content, note=data.get("note", ""), actor=me)
            db.commit()
            error = None
        except GovhallError as exc:
            db.rollback()
            draft, error = None, _error_text(exc)
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

    @post("/form-preview", name="catalog_form_preview", sync_to_thread=True)
    def form_preview(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template:
        """htmx: the form being designed as the citizen will see it, or what is wrong with
        its definition."""
        _admin(principal)
        views, error = [], ""
        try:
            text = (data.get("form") or "").strip()
            fields = parse_form(read_json(text, "form", list)) if text else []
            views = view_of(fields, {}, home=tenant.division_code)
        except GovhallError as exc:
            error = exc.detail
        return render(request, db, tenant, "admin/_form_preview.html", views=views, error=error)

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
        me = _admin(principal)
        item = get_item_by_code(db, tenant, code)
        try:
            valid_from = date.fromisoformat(data["valid_from"]) if data.get("valid_from") else None
        except ValueError:
            raise InvalidInput("生效日期格式应为 YYYY-MM-DD", field="valid_from") from None
        publish_item(
            db, tenant, item, reason=data.get("reason", ""), valid_from=valid_from, actor=me
        )
        db.commit()
        said = "已安排，到生效日期自动启用" if valid_from else "已发布：群众现在看到的是新版本"
        return Redirect(with_flash(f"/t/{tenant.slug}/admin/catalog/items/{code}", msg=said))

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
            raise InvalidInput("请选择材料", field="material") from None
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

        me = _admin(principal)
        upload = data.get("file")
        try:
            if not isinstance(upload, UploadFile):
                raise InvalidInput("请选择文件", field="file")
            job = start_import(db, tenant, upload.file.read(), upload.filename, actor=me)
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
        return render(
            request,
            db,
            tenant,
            name,
            job=job,
            progress=job_progress(job),
            import_status=IMPORT_STATUS,
        )

    @get("/export/{fmt:str}", name="catalog_export", sync_to_thread=True)
    def export(
        self, tenant: Tenant, db: Session, principal: Principal | None, fmt: str
    ) -> Response[bytes]:
        _admin(principal)
        if fmt not in ("csv", "xlsx"):
            raise InvalidInput("只能导出为 CSV 或 XLSX", field="format")
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


@dataclass
class ListFilters:
    """The editor list's filters, as they come in the query string and go back into links."""

    q: str = ""
    department: str = ""
    category: str = ""
    status: str = ""
    drafts: bool = False
    page: int = 1

    def link(self, page: int) -> str:
        params = {k: v for k, v in asdict(self).items() if v and k not in ("page", "drafts")}
        if self.drafts:
            params["drafts"] = "1"
        return "?" + urlencode({**params, "page": page})


def _index(
    request: Request[Any, Any, Any],
    db: Session,
    tenant: Tenant,
    error: str | None,
    filters: ListFilters | None = None,
) -> Template:
    filters = filters or ListFilters()
    if filters.status and filters.status not in LABELS["status"]:
        raise InvalidInput("没有这种状态", field="status")
    result = admin_items(
        db,
        tenant,
        q=filters.q or None,
        department=filters.department or None,
        category=filters.category or None,
        status=filters.status or None,
        drafts_only=filters.drafts,
        limit=PAGE_SIZE,
        offset=(filters.page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        db,
        tenant,
        "admin/catalog.html",
        result=result,
        filters=filters,
        pages=max(1, -(-result.total // PAGE_SIZE)),
        imports=recent_imports(db, tenant),
        import_status=IMPORT_STATUS,
        labels=LABELS,
        departments=departments(db, tenant),
        categories=categories(db),
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
    before = _form_from(item.code, item.effective or {}, db) if item.effective else {}
    after = _form_from(item.code, new, db)
    rows: list[tuple[str, Any, Any]] = []
    for field, old, now in diff_versions(item.effective or {}, new):
        if field == "form":
            rows.append((field, *_form_change(old, now)))
        elif field in after:  # as the editor writes it (材料 one a line), not as stored
            if before.get(field, "") != after[field]:
                rows.append((field, before.get(field, ""), after[field]))
        else:
            rows.append((field, _plain(old), _plain(now)))
    return rows


def _plain(value: Any) -> str:
    """A stored value in words: nothing as empty, lists one item a line, the rest as JSON."""
    if value is None or value == "":
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    return json.dumps(value, ensure_ascii=False, indent=1)


def _form_change(old: Any, new: Any) -> tuple[str, str]:
    """A form's change in words: how many fields, which were added, removed or edited."""
    before = {f.get("key"): f for f in old or [] if isinstance(f, dict)}
    after = {f.get("key"): f for f in new or [] if isinstance(f, dict)}

    def names(keys: list[Any], fields: dict[Any, Any]) -> str:
        return "、".join(str(fields[k].get("label") or k) for k in keys)

    said = [f"共 {len(after)} 项"]
    for title, keys, fields in (
        ("新增", [k for k in after if k not in before], after),
        ("删除", [k for k in before if k not in after], before),
        ("修改", [k for k in after if k in before and after[k] != before[k]], after),
    ):
        if keys:
            said.append(f"{title}：{names(keys, fields)}")
    return f"共 {len(before)} 项", "；".join(said)

"""Form templates (表单) attached to an item's materials: stored per tenant, served to anyone."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy.orm import Session

from core.catalog.models import Item
from core.catalog.service import draft_from_full, save_draft
from core.errors import InvalidInput, NotFound
from core.storage import get_storage, tenant_key
from core.storage.pdf_scripts import check_pdf
from core.tenancy import Tenant

__all__ = ["FORM_TYPES", "attach_form", "form_of", "sniff_form"]

MAX_FORM_BYTES = 10 * 1024 * 1024
FORM_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
}


def sniff_form(data: bytes, filename: str) -> str:
    """The file's extension, checked against its content (a renamed .exe is refused)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in FORM_TYPES:
        raise InvalidInput("表单模板须为 PDF、Word 或 Excel 文件", field="file")
    if not data:
        raise InvalidInput("文件是空的", field="file")
    if len(data) > MAX_FORM_BYTES:
        raise InvalidInput("表单模板不能超过 10 MB", field="file")
    signatures = {
        "pdf": b"%PDF-",
        "docx": b"PK\x03\x04",
        "xlsx": b"PK\x03\x04",
        "doc": b"\xd0\xcf\x11\xe0",
        "xls": b"\xd0\xcf\x11\xe0",
    }
    if not data.startswith(signatures[ext]):
        raise InvalidInput(f"文件内容不是 .{ext} 格式", field="file")
    if ext == "pdf":
        check_pdf(data)  # served to anyone: never one that runs script when opened
    return ext


def attach_form(
    session: Session, tenant: Tenant, item: Item, material_index: int, data: bytes, filename: str
) -> str:
    """Store a template for material ``material_index`` and put it in the item's draft."""
    ext = sniff_form(data, filename)
    draft_base: dict[str, Any] = dict(item.effective)
    materials = [dict(m) for m in draft_base.get("materials", [])]
    if not 0 <= material_index < len(materials):
        raise InvalidInput("没有这项材料", field="material")
    key = tenant_key(tenant.id, "forms", f"{item.code}-{material_index + 1}.{ext}")
    get_storage().put(key, io.BytesIO(data), FORM_TYPES[ext])
    materials[material_index]["template_key"] = key
    content = draft_from_full(session, item, {**draft_base, "materials": materials})
    save_draft(
        session, tenant, item, content, note=f"上传表单：{materials[material_index]['name']}"
    )
    return key


def form_of(item: Item, material_index: int) -> tuple[str, str]:
    """(storage key, download name) of a live material's template."""
    materials = (item.effective or {}).get("materials", [])
    if not 0 <= material_index < len(materials) or not materials[material_index].get(
        "template_key"
    ):
        raise NotFound("这项材料没有表单模板")
    key = materials[material_index]["template_key"]
    return key, f"{materials[material_index]['name']}.{key.rsplit('.', 1)[-1]}"

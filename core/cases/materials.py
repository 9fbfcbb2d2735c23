"""Materials (申报材料): streamed uploads checked by content, size-limited, hashed, encrypted
before they reach storage; reuse of e-licenses and earlier materials; short-lived links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.access import get_case, is_filer
from core.cases.models import Case, CaseMaterial, CaseState, License
from core.cases.trail import Actor, append_event
from core.config import get_settings
from core.db import platform_scope
from core.errors import Conflict, Forbidden, GovhallError, InvalidInput, NotFound
from core.identity import Principal
from core.storage import get_storage, tenant_key
from core.storage.crypt import Encryptor, decrypt_stream
from core.tenancy import Tenant

__all__ = [
    "ALLOWED_TYPES",
    "clean_filename",
    "IncomingFile",
    "UnsupportedType",
    "UploadTooLarge",
    "attach_upload",
    "check_upload_allowed",
    "current_materials",
    "material_link",
    "open_material",
    "resolve_link",
    "reuse_material",
]

#: The allow-list, decided by the file's first bytes, never by its name or declared type.
ALLOWED_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
_EXT = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
LINK_SECONDS = 300


class UploadTooLarge(GovhallError):
    code = "payload_too_large"
    status = 413


class UnsupportedType(GovhallError):
    code = "unsupported_media_type"
    status = 415


def sniff(head: bytes) -> str | None:
    for content_type, signatures in ALLOWED_TYPES.items():
        if any(head.startswith(sig) for sig in signatures):
            return content_type
    return None


_UNSHOWN = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def clean_filename(name: str | None) -> str:
    """The name a person gave their file, kept only for showing it back: the last segment of
    any path (either slash), without control or format characters, at most 200 characters."""
    last = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    last = "".join(c for c in last if unicodedata.category(c) not in _UNSHOWN)
    last = last.strip().lstrip(".").strip()
    return last[:200] or "upload"


#: what a name's extension says a file is, for telling a renamed or damaged file apart
_CLAIMED = {"pdf": "PDF", "jpg": "JPG", "jpeg": "JPG", "png": "PNG"}


def unsupported_message(filename: str) -> str:
    """Why a file's content is refused: named as a PDF (or an image) but not one — damaged,
    or another file renamed — or simply not of a kind we take."""
    claimed = _CLAIMED.get(filename.rsplit(".", 1)[-1].lower()) if "." in filename else None
    if claimed:
        return (
            f"所选文件名为 {claimed} 文件，内容却不是（可能已损坏，或是其他文件改了扩展名）。"
            "请重新生成或扫描后上传 PDF、JPG 或 PNG 格式的文件"
        )
    return "只能上传 PDF、JPG 或 PNG 格式的文件"


class IncomingFile:
    """Receives an upload chunk by chunk: checks its type on the first bytes, counts, hashes
    and encrypts it into a temporary file. Nothing reaches storage until it is complete."""

    def __init__(self, filename: str, max_bytes: int | None = None) -> None:
        self.filename = clean_filename(filename)
        self.max_bytes = max_bytes or get_settings().max_upload_bytes
        self.size = 0
        self.content_type: str | None = None
        self._head = b""
        self._sha = hashlib.sha256()
        self._enc = Encryptor()
        fd, self.path = tempfile.mkstemp(prefix="govhall-upload-")
        self._out: BinaryIO = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.discard()
            raise UploadTooLarge(f"文件超过 {self.max_bytes // 1_048_576} MB 的上限", field="file")
        if self.content_type is None:
            self._head += chunk[:16]
            if len(self._head) >= 16:
                self._decide()
        self._sha.update(chunk)
        self._out.write(self._enc.update(chunk))

    def _decide(self) -> None:
        self.content_type = sniff(self._head)
        if self.content_type is None:
            self.discard()
            raise UnsupportedType(unsupported_message(self.filename), field="file")

    def finish(self) -> None:
        if self.size == 0:
            self.discard()
            raise InvalidInput("文件为空", field="file")
        if self.content_type is None:
            self._decide()
        self._out.write(self._enc.finish())
        self._out.close()

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def discard(self) -> None:
        if not self._out.closed:
            self._out.close()
        Path(self.path).unlink(missing_ok=True)


def _spec(case: Case, index: int) -> dict[str, Any]:
    specs: list[dict[str, Any]] = case.content.get("materials") or []
    if not 0 <= index < len(specs):
        raise InvalidInput(f"该事项没有第 {index + 1} 项材料", field="index")
    return specs[index]


def check_upload_allowed(case: Case, principal: Principal, index: int) -> dict[str, Any]:
    """The filer adds materials to a draft, or replaces the ones a correction notice named."""
    if not is_filer(principal, case):
        raise Forbidden("只有申请人或代办人可以提交材料")
    spec = _spec(case, index)
    if case.state is CaseState.draft:
        return spec
    if case.state is CaseState.correcting:
        return spec
    raise Conflict(f"办件当前状态（{case.state.value}）不能再提交材料", field="state")


def _store(
    session: Session,
    tenant: Tenant,
    case: Case,
    index: int,
    spec: dict[str, Any],
    row: CaseMaterial,
) -> CaseMaterial:
    if case.state is CaseState.correcting:
        rejected = {
            m.spec_index for m in current_materials(session, case) if m.status == "rejected"
        }
        if index not in rejected:
            raise Conflict("补正只需提交告知书列出的材料", field="index")
    for old in session.scalars(
        select(CaseMaterial).where(
            CaseMaterial.case_id == case.id,
            CaseMaterial.spec_index == index,
            CaseMaterial.status.in_(("current", "rejected")),
        )
    ):
        old.status = "replaced"
    row.status = "current"
    session.add(row)
    session.flush()
    return row


def attach_upload(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    number: str,
    index: int,
    incoming: IncomingFile,
) -> CaseMaterial:
    """Store a received upload as material ``index`` of the case (the caller commits)."""
    case = get_case(session, number, principal, lock=True)
    spec = check_upload_allowed(case, principal, index)
    material_id = uuid.uuid4()
    key = tenant_key(
        tenant.id, "materials", str(case.id), f"{material_id}.{_EXT[incoming.content_type or '']}"
    )
    try:
        with open(incoming.path, "rb") as fh:
            get_storage().put(key, fh, "application/octet-stream")
    finally:
        incoming.discard()
    row = CaseMaterial(
        tenant_id=tenant.id,
        id=material_id,
        case_id=case.id,
        spec_index=index,
        name=spec["name"],
        source="upload",
        filename=incoming.filename,
        storage_key=key,
        content_type=incoming.content_type or "",
        size=incoming.size,
        sha256=incoming.sha256,
        encrypted=True,
    )
    _store(session, tenant, case, index, spec, row)
    append_event(
        session,
        case,
        Actor.of(principal),
        "material_uploaded",
        from_state=case.state.value,
        data={"index": index, "name": spec["name"], "sha256": row.sha256, "size": row.size},
    )
    return row


def _province_tenants(session: Session, tenant: Tenant) -> list[uuid.UUID]:
    return list(session.scalars(select(Tenant.id).where(Tenant.province_id == tenant.province_id)))


def reuse_material(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    number: str,
    index: int,
    *,
    license_code: str | None = None,
    material_id: uuid.UUID | None = None,
) -> CaseMaterial:
    """An e-license of the applicant, or a material of their earlier case, stands in for an
    upload (anywhere in the province: the account is province-wide)."""
    case = get_case(session, number, principal, lock=True)
    spec = check_upload_allowed(case, principal, index)
    if (license_code is None) == (material_id is None):
        raise InvalidInput("请指定电子证照或历史材料之一", field="license_code")
    with platform_scope(session) as s:
        tenants = _province_tenants(s, tenant)
        if license_code is not None:
            lic = s.scalars(
                select(License).where(
                    License.code == license_code.strip().upper(),
                    License.tenant_id.in_(tenants),
                    License.holder_id == case.applicant_id,
                    License.revoked.is_(False),
                )
            ).first()
            if lic is None:
                raise NotFound("申请人名下没有这份电子证照", field="license_code")
            if spec.get("license_type") != lic.license_type:
                raise InvalidInput("这份电子证照不能替代该项材料", field="license_code")
            row = CaseMaterial(
                tenant_id=tenant.id,
                case_id=case.id,
                spec_index=index,
                name=spec["name"],
                source="license",
                filename=f"{lic.title}.pdf",
                storage_key=lic.storage_key,
                content_type="application/pdf",
                encrypted=False,
                license_id=lic.id,
            )
        else:
            earlier = s.scalars(
                select(CaseMaterial).where(
                    CaseMaterial.id == material_id, CaseMaterial.tenant_id.in_(tenants)
                )
            ).first()
            owner = s.get(Case, (earlier.tenant_id, earlier.case_id)) if earlier else None
            if (
                earlier is None
                or owner is None
                or owner.applicant_id != case.applicant_id
                or owner.id == case.id
                or not earlier.storage_key
            ):
                raise NotFound("申请人没有这份历史材料", field="material_id")
            row = CaseMaterial(
                tenant_id=tenant.id,
                case_id=case.id,
                spec_index=index,
                name=spec["name"],
                source="reuse",
                filename=earlier.filename,
                storage_key=earlier.storage_key,
                content_type=earlier.content_type,
                size=earlier.size,
                sha256=earlier.sha256,
                encrypted=earlier.encrypted,
                reused_from=earlier.id,
            )
    _store(session, tenant, case, index, spec, row)
    append_event(
        session,
        case,
        Actor.of(principal),
        "material_reused",
        from_state=case.state.value,
        data={"index": index, "name": spec["name"], "source": row.source},
    )
    return row


def current_materials(session: Session, case: Case) -> list[CaseMaterial]:
    return list(
        session.scalars(
            select(CaseMaterial)
            .where(CaseMaterial.case_id == case.id, CaseMaterial.status != "replaced")
            .order_by(CaseMaterial.spec_index, CaseMaterial.uploaded_at)
        )
    )


def _sign(message: str) -> str:
    key = hashlib.sha256(b"material-link:" + get_settings().secret_key.encode()).digest()
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def material_link(tenant: Tenant, material: CaseMaterial, seconds: int = LINK_SECONDS) -> str:
    """A path that serves the material without a session for ``seconds`` (default 5 min)."""
    expires = int(time.time()) + seconds
    message = f"{tenant.id}.{material.id}.{expires}"
    return f"/api/v1/t/{tenant.slug}/files/{material.id}.{expires}.{_sign(message)}"


def resolve_link(session: Session, tenant: Tenant, token: str) -> CaseMaterial:
    try:
        material_id, expires, signature = token.split(".", 2)
        material_uuid, deadline = uuid.UUID(material_id), int(expires)
    except ValueError:
        raise NotFound("链接无效") from None
    expected = _sign(f"{tenant.id}.{material_uuid}.{deadline}")
    if not hmac.compare_digest(expected, signature):
        raise NotFound("链接无效")
    if deadline < time.time():
        raise NotFound("链接已过期，请重新打开")
    row = session.get(CaseMaterial, (tenant.id, material_uuid))
    if row is None:
        raise NotFound("链接无效")
    return row


def open_material(material: CaseMaterial) -> Iterator[bytes]:
    chunks = get_storage().open(material.storage_key or "")
    return decrypt_stream(chunks) if material.encrypted else chunks

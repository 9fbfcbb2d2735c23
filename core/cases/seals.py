"""Departments' seals (部门印章): the department that issues a case's notices, its full name
as printed on them, and its seal image — a PNG a county admin uploads, kept in storage under
the tenant's prefix and referenced from the org unit.

A replaced or removed seal's image stays in storage: a notice recorded while it was in force
names its key and still renders with it (notices are rendered on first download)."""

from __future__ import annotations

import hashlib
import io
import uuid

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.materials import UnsupportedType, UploadTooLarge
from core.errors import InvalidInput, NotFound
from core.storage import get_storage, tenant_key
from core.tenancy import OrgUnit, OrgUnitKind, Tenant

__all__ = [
    "SEAL_MAX_BYTES",
    "SEAL_MAX_PIXELS",
    "Issuer",
    "check_seal_png",
    "department_name",
    "departments",
    "issuer_of",
    "remove_seal",
    "seal_image",
    "set_seal",
]

#: the largest seal image accepted (a 600×600 transparent PNG is typically under 100 KB)
SEAL_MAX_BYTES = 512 * 1024
#: the longest side in pixels
SEAL_MAX_PIXELS = 2000
_PNG = b"\x89PNG\r\n\x1a\n"


def department_name(tenant: Tenant, unit_name: str) -> str:
    """The name a department signs with: the packs call it 市市场监督管理局 inside 河池市,
    a notice says 河池市市场监督管理局; a name already in full (国家税务总局河池市税务局)
    is kept."""
    short = unit_name[:1]
    if short in ("市", "县", "区") and tenant.name.endswith(short) and len(unit_name) > 1:
        return tenant.name + unit_name[1:]
    return unit_name


class Issuer:
    """Who issues a case's documents: its department (or, lacking one, the hall) and the
    department's seal image key, if one is configured."""

    def __init__(self, name: str, code: str = "", seal_key: str | None = None) -> None:
        self.name, self.code, self.seal_key = name, code, seal_key


def issuer_of(session: Session, tenant: Tenant, department_code: str) -> Issuer:
    from core.cases.engine import unit_by_code  # the remembered units: no statement, no flush

    unit = unit_by_code(session, department_code)
    if unit is None or unit.tenant_id != tenant.id:
        return Issuer(tenant.display_name)
    return Issuer(department_name(tenant, unit.name), unit.code, unit.seal_key)


def departments(session: Session, tenant: Tenant) -> list[OrgUnit]:
    """The tenant's departments, the units that issue notices, by code."""
    return list(
        session.scalars(
            select(OrgUnit)
            .where(OrgUnit.tenant_id == tenant.id, OrgUnit.kind == OrgUnitKind.department)
            .order_by(OrgUnit.code)
        )
    )


def _department(session: Session, tenant: Tenant, code: str) -> OrgUnit:
    for unit in departments(session, tenant):
        if unit.code == code:
            return unit
    raise NotFound("部门不存在", field="code")


def check_seal_png(data: bytes) -> tuple[int, int]:
    """A real PNG, decoded to the last pixel, within the size limits: its width and height."""
    if len(data) > SEAL_MAX_BYTES:
        raise UploadTooLarge(f"印章图片不能超过 {SEAL_MAX_BYTES // 1024} KB", field="file")
    if not data:
        raise InvalidInput("请选择印章图片", field="file")
    if not data.startswith(_PNG):
        raise UnsupportedType("印章图片须为 PNG 格式", field="file")
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            width, height = image.size
            if max(width, height) > SEAL_MAX_PIXELS or min(width, height) < 60:
                raise InvalidInput(
                    f"印章图片的边长应在 60 到 {SEAL_MAX_PIXELS} 像素之间", field="file"
                )
            image.load()  # a truncated or corrupt file fails here, not in a notice later
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UnsupportedType("文件不是有效的 PNG 图片", field="file") from None
    return width, height


def set_seal(session: Session, tenant: Tenant, code: str, data: bytes) -> OrgUnit:
    """Store ``data`` as the department's seal (the caller commits)."""
    unit = _department(session, tenant, code)
    check_seal_png(data)
    digest = hashlib.sha256(data).hexdigest()[:24]
    key = tenant_key(tenant.id, "seals", str(unit.id), f"{digest}.png")
    get_storage().put(key, io.BytesIO(data), "image/png")
    unit.seal_key = key
    session.flush()
    return unit


def remove_seal(session: Session, tenant: Tenant, code: str) -> OrgUnit:
    """The department's notices carry no seal from now on (the caller commits)."""
    unit = _department(session, tenant, code)
    unit.seal_key = None
    session.flush()
    return unit


def seal_image(tenant_id: uuid.UUID, key: str | None) -> bytes | None:
    """The seal image under ``key`` if it is this tenant's and in storage (a storage that is
    down raises: a notice must not be fingerprinted without the seal it names)."""
    if not key or not key.startswith(tenant_key(tenant_id, "seals") + "/"):
        return None
    storage = get_storage()
    if storage.stat(key) is None:
        return None
    return storage.read(key)

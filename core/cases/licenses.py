"""E-licenses (电子证照): issued by a case, signed with the tenant's Ed25519 key, verifiable by
anyone (by code, QR, or offline against the published public keys), kept in the holder's
library and reusable as a material.

Each tenant has one active key; ``rotate_key`` retires it (kept for verification) and makes a
new one. Private keys are stored encrypted with the configured data key, which never enters
the database.
"""

from __future__ import annotations

import base64
import io
import secrets

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import clock
from core.cases.documents import render_pdf, verification_code, verify_url
from core.cases.models import Case, License, SigningKey
from core.cases.seals import issuer_of, seal_image
from core.catalog.content import LICENSE_TYPES
from core.db import platform_scope
from core.forms import as_text, parse_form
from core.storage import get_storage, tenant_key
from core.tenancy import Tenant

__all__ = [
    "active_key",
    "issue_license",
    "licenses_of",
    "public_keys",
    "rotate_key",
    "verify_license",
]

#: what an item issues when its content names no e-license type
APPROVAL = ("approval", "准予许可决定书")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_key(session: Session, tenant: Tenant) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    row = SigningKey(
        tenant_id=tenant.id,
        key_id=f"{tenant.division_code}-{secrets.token_hex(4)}",
        private_key=_b64(private.private_bytes_raw()),
        public_key=_b64(raw_public),
        active=True,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def active_key(session: Session, tenant: Tenant) -> SigningKey:
    row = session.scalars(
        select(SigningKey).where(SigningKey.tenant_id == tenant.id, SigningKey.active.is_(True))
    ).first()
    return row or _new_key(session, tenant)


def rotate_key(session: Session, tenant: Tenant) -> SigningKey:
    """Retire the active key (it still verifies what it signed) and start a new one."""
    for row in session.scalars(select(SigningKey).where(SigningKey.active.is_(True))):
        row.active, row.retired_at = False, clock.now()
    session.flush()
    return _new_key(session, tenant)


def public_keys(session: Session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at)))


def _from_form(case: Case) -> tuple[str, dict[str, str]]:
    """The holder and particulars the item takes from the application form
    (``license_fields``); the applicant when it names no holder."""
    mapping: dict[str, str] = case.content.get("license_fields") or {}
    fields = {f.key: f for f in parse_form(case.content.get("form") or [])}
    values = case.form or {}
    shown = {
        name: as_text(fields[key], values.get(key))
        for name, key in mapping.items()
        if key in fields and values.get(key) not in (None, "", [])
    }
    holder = shown.pop("holder", "") or case.applicant_name
    return holder, shown


def issue_license(session: Session, tenant: Tenant, case: Case) -> License:
    """Sign and store the certificate a case produces (the caller commits)."""
    license_type = case.content.get("result_license") or APPROVAL[0]
    label = LICENSE_TYPES.get(license_type, APPROVAL[1])
    title = label if license_type != APPROVAL[0] else f"{case.item_name}{APPROVAL[1]}"
    issued_on = clock.today()
    key = active_key(session, tenant)
    number = "Z" + case.number.replace("-", "")
    code = verification_code()
    holder, particulars = _from_form(case)
    department = issuer_of(session, tenant, case.department_code)
    payload = {
        "number": number,
        "type": license_type,
        "title": title,
        "holder": holder,
        "holder_id": str(case.applicant_id),
        "issuer": f"{tenant.division_code} {tenant.display_name}",
        "department": department.name,
        "issued_on": issued_on.isoformat(),
        "valid_until": None,
        "case": case.number,
        "item": case.item_code,
        "key_id": key.key_id,
        "code": code,
    }
    if particulars:
        payload["particulars"] = particulars
    signed = msgspec.json.encode(payload, order="sorted")
    private = Ed25519PrivateKey.from_private_bytes(_unb64(key.private_key))
    signature = _b64(private.sign(signed))
    pdf = render_pdf(
        issuer=tenant.display_name,
        title=title,
        fields=[
            ("证照编号", number),
            ("持证人", holder),
            *particulars.items(),
            ("事项", f"{case.item_name}（{case.item_code}）"),
            ("办件编号", case.number),
            ("发证日期", f"{issued_on:%Y年%m月%d日}"),
            ("发证机关", department.name),
        ],
        paragraphs=["本证照为电子证照，与纸质证照具有同等效力，可在办理其他事项时作为材料使用。"],
        table=None,
        code=code,
        url=verify_url(tenant, code),
        footer=f"电子签名（Ed25519，密钥 {key.key_id}）：{signature}",
        department=department.name,
        dated=f"{issued_on:%Y年%m月%d日}",
        seal=seal_image(tenant.id, department.seal_key),
    )
    storage_key = tenant_key(tenant.id, "licenses", f"{code}.pdf")
    get_storage().put(storage_key, io.BytesIO(pdf), "application/pdf")
    row = License(
        tenant_id=tenant.id,
        case_id=case.id,
        number=number,
        code=code,
        license_type=license_type,
        title=title,
        holder_id=case.applicant_id,
        holder_name=holder,
        issued_on=issued_on,
        valid_until=None,
        payload=signed.decode(),
        signature=signature,
        key_id=key.key_id,
        storage_key=storage_key,
        created_at=clock.now(),
    )
    session.add(row)
    return row


def verify_license(session: Session, row: License) -> tuple[bool, str]:
    """The signature checks against the key it names, and the signed payload says what the
    record says (an edited holder or number is caught)."""
    key = session.get(SigningKey, (row.tenant_id, row.key_id))
    if key is None:
        return False, "签名密钥不存在"
    try:
        Ed25519PublicKey.from_public_bytes(_unb64(key.public_key)).verify(
            _unb64(row.signature), row.payload.encode()
        )
    except (InvalidSignature, ValueError):
        return False, "电子签名无效"
    payload = msgspec.json.decode(row.payload)
    expected = {
        "number": row.number,
        "holder": row.holder_name,
        "holder_id": str(row.holder_id),
        "type": row.license_type,
        "issued_on": row.issued_on.isoformat(),
        "code": row.code,
    }
    if any(payload.get(k) != v for k, v in expected.items()):
        return False, "证照记录与签名内容不一致"
    if row.revoked:
        return False, "证照已注销"
    return True, "电子签名有效"


def licenses_of(session: Session, tenant: Tenant, holder_id: object) -> list[License]:
    """The holder's e-license library across every tenant of the province."""
    with platform_scope(session) as s:
        tenants = list(s.scalars(select(Tenant.id).where(Tenant.province_id == tenant.province_id)))
        return list(
            s.scalars(
                select(License)
                .where(License.holder_id == holder_id, License.tenant_id.in_(tenants))
                .order_by(License.issued_on.desc())
            )
        )

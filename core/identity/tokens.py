"""Bearer tokens for the JSON API; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import new_id, utcnow
from core.errors import InvalidInput
from core.identity.models import Account, ApiToken, Staff
from core.identity.principal import Principal
from core.identity.scopes import API_SCOPES, parse_scope, unknown_scopes
from core.identity.service import account_principal, staff_principal
from core.tenancy import Tenant

__all__ = ["authenticate_token", "issue_token", "revoke_token", "token_hash"]

PREFIX = "gh_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    *,
    ttl: timedelta = timedelta(days=30),
    client_id: str | None = None,
    scope: str = " ".join(API_SCOPES),
) -> str:
    """A new token for ``principal`` (the caller commits). Staff tokens are bound to
    ``tenant``; citizens' work throughout the province. ``scope`` limits what it reaches
    (see :mod:`core.identity.scopes`); by default every API scope, within the roles."""
    unknown = unknown_scopes(scope)
    if unknown:
        raise InvalidInput(f"未知的授权范围：{'、'.join(unknown)}", field="scope")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            province_id=tenant.province_id,
            id=new_id(),
            token_hash=token_hash(token),
            tenant_id=tenant.id if principal.is_staff or principal.kind == "client" else None,
            subject_kind=principal.kind,
            subject_id=principal.id,
            client_id=client_id,
            scope=scope,
            expires_at=utcnow() + ttl,
        )
    )
    session.flush()
    return token


def authenticate_token(session: Session, tenant: Tenant, token: str) -> Principal | None:
    """The principal behind ``token`` in ``tenant``'s scope, or None (unknown, expired,
    revoked, or issued for another tenant)."""
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.province_id == tenant.province_id, ApiToken.token_hash == token_hash(token)
        )
    )
    if row is None or row.revoked or row.expires_at <= utcnow():
        return None
    if row.tenant_id is not None and row.tenant_id != tenant.id:
        return None
    scopes = parse_scope(row.scope)
    if row.subject_kind == "staff":
        staff = session.get(Staff, (tenant.id, row.subject_id))
        if staff is None or not staff.active:
            return None
        return replace(staff_principal(session, tenant, staff), scopes=scopes)
    if row.subject_kind == "client":
        return Principal(
            kind="client",
            id=None,
            name=row.client_id or "client",
            tenant_id=tenant.id,
            province_id=tenant.province_id,
            client_id=row.client_id,
            scopes=scopes,
        )
    account = session.get(Account, (tenant.province_id, row.subject_id))
    if account is None or not account.active:
        return None
    return replace(account_principal(account), scopes=scopes)


def revoke_token(session: Session, tenant: Tenant, token: str) -> bool:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None:
        return False
    row.revoked = True
    return True

"""Who is asking: a bearer token (JSON API) or the signed session cookie (pages)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from litestar import Request
from sqlalchemy.orm import Session

from core.errors import Forbidden, NotAuthenticated
from core.identity import Account, Principal, Role, Staff
from core.identity.service import account_principal, staff_principal
from core.identity.sessions import end_sessions
from core.identity.tokens import authenticate_token
from core.tenancy import Tenant, scope_for

__all__ = [
    "api_principal",
    "begin_setup_session",
    "enter_tenant",
    "entered_from",
    "leave_tenant",
    "setup_subject",
    "setup_value",
    "page_principal",
    "require",
    "session_auth_time",
    "require_account",
    "require_staff",
    "sign_in_session",
    "sign_out_session",
]


def api_principal(request: Request[Any, Any, Any], db: Session, tenant: Tenant) -> Principal | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return authenticate_token(db, tenant, token.strip())


def _session_data(request: Request[Any, Any, Any]) -> dict[str, Any]:
    data = request.scope.get("session")
    return data if isinstance(data, dict) else {}


def _session_subject(db: Session, tenant: Tenant, data: dict[str, Any]) -> Account | Staff | None:
    """The account or staff member a session cookie names, if the cookie is still theirs."""
    kind, sub = data.get("kind"), data.get("sub")
    if not kind or not sub:
        return None
    try:
        subject_id = uuid.UUID(sub)
    except ValueError:
        return None
    subject: Account | Staff | None
    if kind == "staff":
        if data.get("tenant") != str(tenant.id):
            return None
        subject = db.get(Staff, (tenant.id, subject_id))
    else:
        if data.get("province") != str(tenant.province_id):
            return None
        subject = db.get(Account, (tenant.province_id, subject_id))
    if subject is None or not subject.active:
        return None
    # Ended on the server (signed out, new password, roles changed, disabled, or an admin's
    # "end all sessions"): the cookie's version is behind the person's.
    if data.get("ver") != (subject.session_version or 0):
        return None
    return subject


def page_principal(
    request: Request[Any, Any, Any], db: Session, tenant: Tenant
) -> Principal | None:
    data = _session_data(request)
    subject = _session_subject(db, tenant, data)
    if isinstance(subject, Staff):
        return staff_principal(db, tenant, subject)
    if isinstance(subject, Account):
        return account_principal(subject)
    return _entered_principal(request, db, tenant, data)


def _is_admin_page(request: Request[Any, Any, Any], tenant: Tenant) -> bool:
    prefix = f"/t/{tenant.slug}/admin"
    path = str(request.scope.get("path", ""))
    return path == prefix or path.startswith(prefix + "/")


def _entered_principal(
    request: Request[Any, Any, Any], db: Session, tenant: Tenant, data: dict[str, Any]
) -> Principal | None:
    """A province admin who entered this county's administration (see :func:`enter_tenant`):
    on the county's admin pages only, with a tenant admin's powers. The staff row lives in
    the province, so it is read in the province's scope (row-level security keeps it from
    the county's); the principal keeps the province as its tenant, so that the audit log
    names where the person comes from."""
    if data.get("kind") != "staff" or data.get("entered") != str(tenant.id):
        return None
    if tenant.is_province or data.get("tenant") != str(tenant.province_id):
        return None
    if not _is_admin_page(request, tenant):
        return None  # the workbench, cases, the portal: a province admin decides nothing here
    province = db.get(Tenant, tenant.province_id)
    if province is None:
        return None
    with request.app.state.database.session(scope=scope_for(province)) as session:
        subject = _session_subject(session, province, data)
        if not isinstance(subject, Staff):
            return None
        home = staff_principal(session, province, subject)
    if not home.has_role(Role.province_admin):
        return None
    return Principal(
        kind="staff",
        id=home.id,
        name=home.name,
        tenant_id=province.id,
        province_id=province.id,
        roles=frozenset({(Role.tenant_admin, None)}),
        session_version=home.session_version,
    )


def entered_from(principal: Principal | None, tenant: Tenant) -> bool:
    """True when ``principal`` is a province admin acting in ``tenant`` after entering it."""
    return bool(principal and principal.is_staff and principal.tenant_id not in (None, tenant.id))


def enter_tenant(request: Request[Any, Any, Any], county: Tenant) -> None:
    """Mark the (province admin's) session as entered into ``county``'s administration."""
    request.set_session({**_session_data(request), "entered": str(county.id)})


def leave_tenant(request: Request[Any, Any, Any]) -> None:
    data = dict(_session_data(request))
    data.pop("entered", None)
    request.set_session(data)


def begin_setup_session(request: Request[Any, Any, Any], tenant: Tenant, staff: Staff) -> None:
    """A session that only opens the first-sign-in page (new password, dynamic code)."""
    request.clear_session()
    request.set_session(
        {"setup": str(staff.id), "tenant": str(tenant.id), "ver": staff.session_version or 0}
    )


def setup_subject(request: Request[Any, Any, Any], db: Session, tenant: Tenant) -> Staff | None:
    """The staff member whose first sign-in this session is completing, if still valid."""
    data = _session_data(request)
    if not data.get("setup") or data.get("tenant") != str(tenant.id):
        return None
    try:
        staff = db.get(Staff, (tenant.id, uuid.UUID(str(data["setup"]))))
    except ValueError:
        return None
    if staff is None or not staff.active or data.get("ver") != (staff.session_version or 0):
        return None
    return staff


def setup_value(request: Request[Any, Any, Any], key: str, value: str | None = None) -> str:
    """Read (or, with ``value``, keep) a value of the first-sign-in session (the dynamic
    code's secret being enrolled: the cookie is encrypted)."""
    data = _session_data(request)
    if value is not None:
        request.set_session({**data, key: value})
        return value
    return str(data.get(key) or "")


def sign_in_session(request: Request[Any, Any, Any], tenant: Tenant, principal: Principal) -> None:
    # A fresh session on sign-in (no fixation): replace whatever the cookie carried.
    request.clear_session()
    request.set_session(
        {
            "kind": "staff" if principal.is_staff else "account",
            "sub": str(principal.id),
            "tenant": str(tenant.id),
            "province": str(tenant.province_id),
            "ver": principal.session_version,
            "at": int(time.time()),  # when the person proved who they are (OIDC auth_time)
        }
    )


def sign_out_session(request: Request[Any, Any, Any], db: Session, tenant: Tenant) -> None:
    """Clear the cookie and end the person's sessions on the server, so that a copy of the
    cookie saved before signing out opens nothing (the caller's transaction is committed)."""
    subject = _session_subject(db, tenant, _session_data(request))
    if subject is not None:
        end_sessions(subject)
        db.commit()
    request.clear_session()


def session_auth_time(request: Request[Any, Any, Any]) -> int | None:
    """When the session's person signed in (seconds since the epoch), if the cookie says."""
    value = _session_data(request).get("at")
    return int(value) if isinstance(value, int | float) else None


def require(principal: Principal | None) -> Principal:
    if principal is None:
        raise NotAuthenticated("请先登录")
    return principal


def require_staff(principal: Principal | None, *roles: Role) -> Principal:
    """A staff member holding any of ``roles`` (any staff member when none are given)."""
    principal = require(principal)
    if not principal.is_staff:
        raise Forbidden("仅限工作人员")
    if roles and not any(principal.has_role(r) for r in roles):
        raise Forbidden("没有执行此操作的权限")
    return principal


def require_account(principal: Principal | None) -> Principal:
    principal = require(principal)
    if not principal.is_account:
        raise Forbidden("仅限群众或企业账户")
    return principal

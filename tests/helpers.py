"""Small helpers the tests share."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.db import Database
from core.identity import Staff
from core.identity.service import staff_principal
from core.identity.tokens import issue_token
from core.tenancy import Tenant, get_tenant_by_slug, scope_for


def tenant(database: Database, slug: str) -> Tenant:
    with database.session(scope=None) as session:
        return get_tenant_by_slug(session, slug)


def staff_token(database: Database, slug: str, username: str) -> str:
    t = tenant(database, slug)
    with database.session(scope=scope_for(t)) as session:
        staff = session.scalar(select(Staff).where(Staff.username == username))
        assert staff is not None, username
        token = issue_token(session, t, staff_principal(session, t, staff))
        session.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_token(client: Any, path: str) -> str:
    """GET a page so the CSRF cookie is set; return the token to send back."""
    response = client.get(path)
    assert response.status_code < 400, (path, response.status_code)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', response.text)
    return match.group(1) if match else client.cookies.get("govhall_csrf")


def last_sms(outbox: Path) -> dict[str, Any]:
    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert lines, "no SMS was sent"
    return lines[-1]


def sms_code(outbox: Path) -> str:
    return re.search(r"\d{6}", last_sms(outbox)["text"]).group(0)


def account_token(database: Database, slug: str, phone: str) -> str:
    """A bearer token for a demo citizen or enterprise of the tenant's province."""
    from core.identity.service import account_principal, find_account_by_phone

    t = tenant(database, slug)
    with database.session(scope=scope_for(t)) as session:
        account = find_account_by_phone(session, t.province_id, phone)
        assert account is not None, phone
        token = issue_token(session, t, account_principal(account))
        session.commit()
    return token

"""A closed (撤销) department is offered nowhere — not on the portal's 部门办事, not in the
item editor's or the workbench's department choices, not in the adoption mapping — and a
department that still carries items cannot be closed."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from core.catalog.service import departments
from core.db import PLATFORM
from core.tenancy import Tenant
from tests.web.test_people_admin import _csrf, _sign_in


def _make(client, csrf: str, code: str, name: str) -> None:
    made = client.post(
        "/t/hechi/admin/units",
        data={"code": code, "name": name, "kind": "department", "parent": "", "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert made.status_code in (302, 303), made.text


def test_a_closed_department_is_offered_nowhere(client, db) -> None:
    _sign_in(client, "hechi", "hechi-admin")
    csrf = _csrf(client, "hechi")
    code = f"T{uuid.uuid4().hex[:6].upper()}-D"
    name = f"撤销测试局{code[1:7]}"
    _make(client, csrf, code, name)
    for page in ("/t/hechi/", "/t/hechi/admin/catalog/new", "/t/hechi/workbench"):
        assert name in client.get(page).text, page
    closed = client.post(
        f"/t/hechi/admin/units/{code}/close", data={"_csrf_token": csrf}, follow_redirects=False
    )
    assert closed.status_code in (302, 303), closed.text
    for page in ("/t/hechi/", "/t/hechi/admin/catalog/new", "/t/hechi/workbench"):
        assert name not in client.get(page).text, page
    # …while the unit page still lists it, as closed, for the record
    assert name in client.get("/t/hechi/admin/units").text
    with db.session(scope=PLATFORM) as s:
        hechi = s.scalar(select(Tenant).where(Tenant.slug == "hechi"))
        assert code not in departments(s, hechi)


def test_a_department_with_items_is_not_closed(client, db) -> None:
    _sign_in(client, "hechi", "hechi-admin")
    csrf = _csrf(client, "hechi")
    refused = client.post("/t/hechi/admin/units/HC-SCJ/close", data={"_csrf_token": csrf})
    assert refused.status_code in (409, 422), refused.status_code
    assert "个事项由该机构实施" in refused.text
    assert "市场监督管理局" in client.get("/t/hechi/").text

"""A page number, offset or limit that is huge, negative or not a number answers a normal page
(clamped) or 400, never a server error: a database refuses an OFFSET past 2**63."""

from __future__ import annotations

import pytest

from tests.helpers import bearer, csrf_token, sms_code, staff_token

HUGE = "99999999999999999999999"
VALUES = (HUGE, "-" + HUGE, "-5", "0", "abc")


def _sign_in(client, slug: str, username: str) -> None:
    token = csrf_token(client, f"/t/{slug}/staff/login")
    response = client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text[:400]


def _fine(response) -> None:
    assert response.status_code in (200, 400, 422), (response.status_code, response.text[:300])


@pytest.mark.parametrize("value", VALUES)
def test_anyone_s_pages(client, value: str) -> None:
    _fine(client.get(f"/t/suning/items?page={value}"))
    _fine(client.get(f"/t/suning/items?q=证&page={value}"))


@pytest.mark.parametrize("value", VALUES)
def test_the_public_api(client, value: str) -> None:
    for query in (f"offset={value}", f"limit={value}", f"offset={value}&limit={value}"):
        _fine(client.get(f"/api/v1/t/suning/items?{query}"))
    _fine(client.get(f"/api/v1/t/suning/catalog/changes?limit={value}"))


def test_the_admin_pages(client) -> None:
    _sign_in(client, "suning", "suning-admin")
    for value in VALUES:
        for path in (
            "/t/suning/admin/audit",
            "/t/suning/admin/catalog/",
        ):
            _fine(client.get(f"{path}?page={value}"))


def test_the_console(client) -> None:
    _sign_in(client, "hebei", "hebei-admin")
    for value in VALUES:
        _fine(client.get(f"/t/hebei/console/audit/?page={value}"))


def test_the_staff_pages(client) -> None:
    _sign_in(client, "suning", "suning-clerk")
    for value in VALUES:
        _fine(client.get(f"/t/suning/workbench/queue?page={value}"))


def test_the_staff_api(client, db) -> None:
    token = bearer(staff_token(db, "suning", "suning-admin"))
    for value in VALUES:
        for query in (f"offset={value}", f"limit={value}"):
            _fine(client.get(f"/api/v1/t/suning/audit/?{query}", headers=token))
            _fine(client.get(f"/api/v1/t/suning/cases?{query}", headers=token))


def test_a_citizen_s_cases(client, sms_outbox) -> None:
    token = csrf_token(client, "/t/suning/login")
    client.post(
        "/t/suning/login/code/request",
        data={"phone": "13912340001"},
        headers={"x-csrftoken": token, "HX-Request": "true"},
    )
    client.post(
        "/t/suning/login/code",
        data={"phone": "13912340001", "code": sms_code(sms_outbox), "_csrf_token": token},
    )
    for value in VALUES:
        _fine(client.get(f"/t/suning/my/cases?page={value}"))

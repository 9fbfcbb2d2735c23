"""A page's green or red banner says only what our own redirect put there: a crafted link
cannot make a county's page announce "您的申请已通过，请转账…"."""

from __future__ import annotations

from urllib.parse import quote

from web.flash import with_flash

PHISH = "您的申请已通过，请向 6222 0000 转账 200 元工本费"


def test_a_crafted_message_is_not_shown(client) -> None:
    for query in (f"msg={quote(PHISH)}", f"error={quote(PHISH)}", f"msg={quote(PHISH)}&sig=00"):
        page = client.get(f"/t/hechi/items/HC-SC03?{query}")
        assert page.status_code == 200
        assert "转账" not in page.text, query


def test_our_own_redirects_message_is_shown(client) -> None:
    page = client.get(with_flash("/t/hechi/items/HC-SC03", msg="已收藏"))
    assert 'data-testid="page-msg"' in page.text and "已收藏" in page.text
    page = client.get(with_flash("/t/hechi/items/HC-SC03#channels", error="该事项不支持网上申办"))
    assert 'data-testid="page-error"' in page.text and "该事项不支持网上申办" in page.text
    # a signature is for its own words only
    signed = with_flash("/t/hechi/items/HC-SC03", msg="已收藏")
    page = client.get(signed.replace(quote("已收藏"), quote(PHISH)))
    assert "转账" not in page.text


def _sign_in(client, slug: str, username: str) -> str:
    from tests.helpers import csrf_token

    token = csrf_token(client, f"/t/{slug}/staff/login")
    signed = client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code in (302, 303), signed.text[:300]
    return token


def test_what_an_admin_types_is_not_signed_into_a_banner(client) -> None:
    """A unit named like a phishing sentence is created, but the redirect's signed message
    does not repeat its name (the unit list shows it as what it is: a unit's name)."""
    import random

    token = _sign_in(client, "suning", "suning-admin")
    name = f"请立即致电 400-000-{random.randrange(10000):04d} 核验账号"
    code = f"F{random.randrange(10**6)}"
    created = client.post(
        "/t/suning/admin/units",
        data={"code": code, "name": name, "kind": "service_centre", "_csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code in (302, 303), created.text[:500]
    location = created.headers["location"]
    assert quote("致电") not in location and "致电" not in location
    assert "msg=" in location


def test_an_unknown_action_a_clerk_posts_is_not_signed_into_a_banner(client, db) -> None:
    """The probe's case: 未知的操作 <whatever was posted> came back signed."""
    from tests.cases.conftest import Desk

    hechi = Desk(db, "hechi")
    number = hechi.apply(hechi.citizen("13800000008"), "HC-SC03")
    token = _sign_in(client, "hechi", "hechi-clerk")
    acted = client.post(
        f"/t/hechi/workbench/cases/{number}/act",
        data={"action": PHISH, "_csrf_token": token},
        follow_redirects=False,
    )
    assert acted.status_code in (302, 303, 422), acted.text[:300]
    said = acted.headers.get("location", "") + acted.text
    assert "转账" not in said and quote("转账") not in said

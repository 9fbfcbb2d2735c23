"""Tokens have scopes: `openid profile phone` reach userinfo only; each API route names the
scope it needs (and OpenAPI shows it); a client gets only what it is registered for and the
person consented to; `govhall tokens issue --scope` narrows a token. And the OIDC edge cases:
a malformed redirect URI is a 400, a replayed code revokes its tokens, a public client without
PKCE is refused at authorize, `prompt=none` while signed out answers `login_required`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from click.testing import CliRunner

from core.db import Database
from core.identity import Staff
from core.identity.scopes import API_SCOPES
from core.identity.service import staff_principal
from core.identity.tokens import issue_token
from core.tenancy import scope_for
from tests.helpers import bearer, tenant
from tests.servers import LiveServer
from tests.web.test_oidc import REDIRECT, _client, _sign_in_browser
from tests.web.test_oidc import live as live


def _token(db: Database, username: str, scope: str, slug: str = "hechi") -> str:
    t = tenant(db, slug)
    with db.session(scope=scope_for(t)) as s:
        staff = s.query(Staff).filter_by(username=username).one()
        token = issue_token(s, t, staff_principal(s, t, staff), scope=scope)
        s.commit()
    return token


def test_every_api_route_declares_its_scope_and_openapi_shows_it(app, client) -> None:
    undeclared = [
        (sorted(r.methods), r.path)
        for r in app.routes
        if r.path.startswith("/api/")
        for h in getattr(r, "route_handlers", [])
        if "scope" not in h.opt and h.http_methods != {"OPTIONS"}
    ]
    assert not undeclared, undeclared
    schema = client.get("/schema/openapi.json").json()
    flows = schema["components"]["securitySchemes"]["govhall_oauth"]["flows"]
    assert set(API_SCOPES) <= set(flows["authorizationCode"]["scopes"])
    ops = schema["paths"]
    assert ops["/api/v1/t/{slug}/plugins"]["get"]["security"] == [{"govhall_oauth": ["admin"]}]
    assert ops["/api/v1/t/{slug}/cases"]["post"]["security"] == [{"govhall_oauth": ["cases:write"]}]
    assert ops["/api/v1/t/{slug}/progress"]["get"].get("security", []) == []


def test_an_openid_token_opens_no_api_route(client, db: Database) -> None:
    token = _token(db, "hechi-admin", "openid profile phone")
    for method, path in [
        ("GET", "/api/v1/t/hechi/plugins"),
        ("GET", "/api/v1/t/hechi/staff"),
        ("GET", "/api/v1/t/hechi/me"),
        ("GET", "/api/v1/t/hechi/cases"),
        ("PUT", "/api/v1/t/hechi/plugins/sms_console"),
    ]:
        answer = client.request(method, path, headers=bearer(token), json={"enabled": True})
        assert answer.status_code == 403, (path, answer.status_code)
        assert answer.json()["error"] == "insufficient_scope"
    # what needs no token still answers
    assert client.get("/api/v1/t/hechi/items", headers=bearer(token)).status_code == 200


def test_a_token_reaches_what_its_scopes_name_and_no_further(client, db: Database) -> None:
    reader = _token(db, "hechi-admin", "cases:read")
    assert client.get("/api/v1/t/hechi/cases", headers=bearer(reader)).status_code == 200
    assert client.get("/api/v1/t/hechi/me", headers=bearer(reader)).status_code == 200
    refused = client.post("/api/v1/t/hechi/cases", headers=bearer(reader), json={"item": "X"})
    assert refused.status_code == 403
    assert 'scope="cases:write"' in refused.headers["www-authenticate"]
    assert client.get("/api/v1/t/hechi/plugins", headers=bearer(reader)).status_code == 403
    admin = _token(db, "hechi-admin", "admin")
    assert client.get("/api/v1/t/hechi/plugins", headers=bearer(admin)).status_code == 200
    # scopes narrow roles, never widen them: a clerk with "admin" is still no admin
    clerk = _token(db, "hechi-clerk", "admin")
    assert client.get("/api/v1/t/hechi/plugins", headers=bearer(clerk)).status_code == 403
    assert client.get("/api/v1/t/hechi/plugins", headers=bearer(clerk)).json()["error"] == (
        "forbidden"
    )


def test_tokens_issue_takes_scopes(client, db: Database) -> None:
    from web.cli import main

    issued = CliRunner().invoke(
        main,
        ["tokens", "issue", "--tenant", "hechi", "--user", "hechi-admin", "--scope", "cases:read"],
    )
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    assert client.get("/api/v1/t/hechi/cases", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/t/hechi/plugins", headers=bearer(token)).status_code == 403
    wrong = CliRunner().invoke(
        main, ["tokens", "issue", "--tenant", "hechi", "--user", "hechi-admin", "--scope", "all"]
    )
    assert wrong.exit_code == 2 and "未知的授权范围" in wrong.output


# -- through the OpenID Connect provider ---------------------------------------------------------


def _authorize(
    live: LiveServer,
    browser: httpx.Client,
    client_id: str,
    scope: str,
    verifier: str = "v" * 64,
) -> tuple[httpx.Response, httpx.Response]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st-1",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    consent = browser.get("/oauth/authorize", params=params)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', consent.text))
    fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
    return consent, browser.post("/oauth/authorize", data={**fields, "decision": "allow"})


def _redeem(
    live: LiveServer, client_id: str, secret: str, decision: httpx.Response
) -> httpx.Response:
    code = parse_qs(urlparse(decision.headers["location"]).query)["code"][0]
    return httpx.post(
        f"{live.url}/oauth/token",
        auth=(client_id, secret),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": "v" * 64,
        },
    )


def test_a_client_gets_the_api_scopes_it_is_registered_for_and_the_person_allowed(
    live: LiveServer, db: Database
) -> None:
    client_id, secret = _client(
        db, "hechi", redirect_uris=[REDIRECT], scope="openid profile cases:read"
    )
    browser = _sign_in_browser(live.url, "hechi", "hechi-admin")
    consent, decision = _authorize(live, browser, client_id, "openid cases:read admin")
    assert "查看办件、材料、文书和电子证照" in consent.text  # the person sees what is asked
    assert "管理机构" not in consent.text  # not registered for admin: not even asked
    token = _redeem(live, client_id, secret, decision).json()
    assert set(token["scope"].split()) == {"openid", "cases:read"}
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(f"{live.url}/api/v1/t/hechi/cases", headers=auth).status_code == 200
    assert httpx.get(f"{live.url}/api/v1/t/hechi/plugins", headers=auth).status_code == 403
    assert httpx.get(f"{live.url}/oauth/userinfo", headers=auth).status_code == 200


def test_a_replayed_code_revokes_the_tokens_issued_from_it(live: LiveServer, db: Database) -> None:
    client_id, secret = _client(db, "hechi", redirect_uris=[REDIRECT], scope="openid cases:read")
    browser = _sign_in_browser(live.url, "hechi", "hechi-clerk")
    _, decision = _authorize(live, browser, client_id, "openid cases:read")
    first = _redeem(live, client_id, secret, decision)
    assert first.status_code == 200
    auth = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert httpx.get(f"{live.url}/api/v1/t/hechi/cases", headers=auth).status_code == 200
    replay = _redeem(live, client_id, secret, decision)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert httpx.get(f"{live.url}/api/v1/t/hechi/cases", headers=auth).status_code == 401
    assert httpx.get(f"{live.url}/oauth/userinfo", headers=auth).status_code == 401


@pytest.mark.parametrize(
    "uri", ['https://a.example/"x', "https://a.example/\\x", "https://例子.公司/cb"]
)
def test_a_malformed_redirect_uri_is_a_400(live: LiveServer, db: Database, uri: str) -> None:
    client_id, _ = _client(db, "hechi", redirect_uris=[REDIRECT])
    answer = httpx.get(
        f"{live.url}/oauth/authorize",
        params={"response_type": "code", "client_id": client_id, "redirect_uri": uri},
    )
    assert answer.status_code == 400


def test_a_public_client_without_pkce_is_refused_at_authorize(
    live: LiveServer, db: Database
) -> None:
    client_id, _ = _client(db, "hechi", redirect_uris=[REDIRECT], public=True)
    browser = _sign_in_browser(live.url, "hechi", "hechi-clerk")
    answer = browser.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "state": "s-9",
        },
    )
    assert answer.status_code in (302, 303)
    query = parse_qs(urlparse(answer.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["s-9"]
    assert "code" not in query


@pytest.fixture
def signed_out() -> Iterator[httpx.Client]:
    with httpx.Client(follow_redirects=False) as browser:
        yield browser


def test_prompt_none_while_signed_out_answers_login_required(
    live: LiveServer, db: Database, signed_out: httpx.Client
) -> None:
    client_id, _ = _client(db, "hechi", redirect_uris=[REDIRECT])
    answer = signed_out.get(
        f"{live.url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "state": "s-1",
            "prompt": "none",
            "code_challenge": create_s256_code_challenge("w" * 64),
            "code_challenge_method": "S256",
        },
    )
    assert answer.status_code in (302, 303)
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)
    assert parse_qs(urlparse(location).query) == {"error": ["login_required"], "state": ["s-1"]}


def test_client_credentials_get_only_the_scopes_the_client_is_registered_for(
    live: LiveServer, db: Database
) -> None:
    client_id, secret = _client(db, "hechi", redirect_uris=[], grant_types=["client_credentials"])
    asked = "admin cases:read cases:write supervision catalog:write department openid"
    token = httpx.post(
        f"{live.url}/oauth/token",
        auth=(client_id, secret),
        data={"grant_type": "client_credentials", "scope": asked},
    )
    assert token.status_code == 200 and token.json()["scope"] == "department"
    by_post = httpx.post(  # the secret in the body works too, as discovery says
        f"{live.url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert by_post.status_code == 200, by_post.text


def _authorize_params(client_id: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s-2",
        **extra,
    }


@pytest.mark.parametrize(
    "pkce",
    [{"code_challenge": "a" * 43}, {"code_challenge": "a" * 43, "code_challenge_method": "plain"}],
)
def test_pkce_cannot_be_downgraded_to_plain(
    live: LiveServer, db: Database, pkce: dict[str, str]
) -> None:
    client_id, _ = _client(db, "hechi", redirect_uris=[REDIRECT], public=True)
    browser = _sign_in_browser(live.url, "hechi", "hechi-clerk")
    answer = browser.get("/oauth/authorize", params=_authorize_params(client_id, **pkce))
    query = parse_qs(urlparse(answer.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and "code" not in query


def test_an_openid_request_must_name_its_redirect_uri(live: LiveServer, db: Database) -> None:
    client_id, _ = _client(db, "hechi", redirect_uris=[REDIRECT])
    params = _authorize_params(client_id, code_challenge="c" * 43, code_challenge_method="S256")
    del params["redirect_uri"]
    assert httpx.get(f"{live.url}/oauth/authorize", params=params).status_code == 400


def test_prompt_login_and_max_age_make_the_person_sign_in_again(
    live: LiveServer, db: Database
) -> None:
    import time

    client_id, _ = _client(db, "hechi", redirect_uris=[REDIRECT])
    browser = _sign_in_browser(live.url, "hechi", "hechi-clerk")
    pkce = {
        "code_challenge": create_s256_code_challenge("v" * 64),
        "code_challenge_method": "S256",
    }
    fresh = browser.get("/oauth/authorize", params=_authorize_params(client_id, **pkce))
    assert fresh.status_code == 200  # the consent page: signed in recently enough
    time.sleep(1.1)
    for extra in ({"prompt": "login staff"}, {"max_age": "0", "prompt": "staff"}):
        again = browser.get(
            "/oauth/authorize", params=_authorize_params(client_id, **pkce, **extra)
        )
        assert again.status_code in (302, 303), extra
        location = again.headers["location"]
        assert location.startswith("/t/hechi/staff/login?next=")
        assert "login" not in parse_qs(urlparse(location).query)["next"][0].split("prompt=")[-1]
        browser = _sign_in_browser(live.url, "hechi", "hechi-clerk")

"""govhall as an OpenID Connect provider, exercised by Authlib's own OAuth client over real
HTTP against a live server."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from core.config import reset_settings
from core.db import Database
from core.identity.oidc import register_client
from core.tenancy import scope_for
from tests.helpers import tenant
from tests.servers import LiveServer, free_port

REDIRECT = "http://127.0.0.1:9/callback"  # never fetched: the test reads the redirect itself


@pytest.fixture
def live(db: Database) -> Iterator[LiveServer]:
    from web.app import create_app

    port = free_port()
    os.environ["GOVHALL_BASE_URL"] = f"http://127.0.0.1:{port}"
    reset_settings()
    server = LiveServer(create_app(database=db), port=port).start()
    yield server
    server.stop()
    os.environ.pop("GOVHALL_BASE_URL", None)
    reset_settings()


def _client(db: Database, slug: str, **kwargs):
    t = tenant(db, slug)
    with db.session(scope=scope_for(t)) as session:
        client, secret = register_client(session, t, name="县不动产登记系统", **kwargs)
        session.commit()
    return client.client_id, secret


def _sign_in_browser(base: str, slug: str, username: str) -> httpx.Client:
    browser = httpx.Client(base_url=base, follow_redirects=False)
    page = browser.get(f"/t/{slug}/staff/login")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    signed = browser.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": csrf},
    )
    assert signed.status_code in (302, 303)
    return browser


def test_authorization_code_flow_with_pkce_signs_a_user_in(live: LiveServer, db: Database) -> None:
    client_id, secret = _client(db, "hechi", redirect_uris=[REDIRECT])
    discovery = httpx.get(f"{live.url}/.well-known/openid-configuration").json()
    assert discovery["issuer"] == live.url

    oauth = OAuth2Client(
        client_id=client_id,
        client_secret=secret,
        scope="openid profile phone",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )
    verifier = "v" * 64
    url, state = oauth.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce="n-0S6_WzA2Mj"
    )
    signed_at = int(time.time())
    browser = _sign_in_browser(live.url, "hechi", "hechi-reviewer")
    time.sleep(1.1)  # the code is issued a moment after the sign-in
    consent = browser.get(url)
    assert consent.status_code == 200 and "县不动产登记系统" in consent.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', consent.text))
    fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
    decision = browser.post("/oauth/authorize", data={**fields, "decision": "allow"})
    assert decision.status_code == 302
    callback = decision.headers["location"]
    assert callback.startswith(REDIRECT) and parse_qs(urlparse(callback).query)["state"] == [state]

    token = oauth.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    keys = KeySet.import_key_set(httpx.get(discovery["jwks_uri"]).json())
    id_token = jwt.decode(token["id_token"], keys)
    assert id_token.claims["iss"] == live.url
    assert id_token.claims["aud"] == [client_id] or id_token.claims["aud"] == client_id
    assert id_token.claims["nonce"] == "n-0S6_WzA2Mj"
    assert id_token.claims["govhall_tenant"] == "hechi"
    # auth_time is when the person signed in, not when the code was issued
    assert signed_at <= id_token.claims["auth_time"] < id_token.claims["iat"]
    info = oauth.get(discovery["userinfo_endpoint"]).json()
    assert info["sub"] == id_token.claims["sub"] and info["name"].endswith("审核员")
    # Asked for "openid profile phone" only, the token opens userinfo and nothing of the API.
    me = httpx.get(
        f"{live.url}/api/v1/t/hechi/me",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert me.status_code == 403 and me.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in me.headers["www-authenticate"]
    # A code is single-use.
    again = httpx.post(
        discovery["token_endpoint"],
        auth=(client_id, secret),
        data={
            "grant_type": "authorization_code",
            "code": parse_qs(urlparse(callback).query)["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_wrong_pkce_verifier_is_refused(live: LiveServer, db: Database) -> None:
    client_id, secret = _client(db, "bozhou", redirect_uris=[REDIRECT])
    browser = _sign_in_browser(live.url, "bozhou", "bozhou-clerk")
    challenge = create_s256_code_challenge("a" * 64)
    consent = browser.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', consent.text).group(1)
    decision = browser.post(
        "/oauth/authorize",
        data={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "decision": "allow",
            "_csrf_token": csrf,
        },
    )
    code = parse_qs(urlparse(decision.headers["location"]).query)["code"][0]
    refused = httpx.post(
        f"{live.url}/oauth/token",
        auth=(client_id, secret),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": "b" * 64,
        },
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_an_unregistered_redirect_uri_is_refused_before_sign_in(
    live: LiveServer, db: Database
) -> None:
    client_id, _ = _client(db, "hechi", redirect_uris=[REDIRECT])
    response = httpx.get(
        f"{live.url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": "https://evil.example/",
            "scope": "openid",
            "code_challenge": create_s256_code_challenge("c" * 64),
            "code_challenge_method": "S256",
        },
        follow_redirects=False,
    )
    assert response.status_code == 400


def test_client_credentials_give_a_tenant_bound_token(live: LiveServer, db: Database) -> None:
    client_id, secret = _client(db, "cili", redirect_uris=[], grant_types=["client_credentials"])
    oauth = OAuth2Client(client_id=client_id, client_secret=secret)
    token = oauth.fetch_token(f"{live.url}/oauth/token", grant_type="client_credentials")
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(f"{live.url}/api/v1/t/cili/me", headers=auth).json()["kind"] == "client"
    assert httpx.get(f"{live.url}/api/v1/t/hechi/me", headers=auth).status_code == 401
    wrong = httpx.post(
        f"{live.url}/oauth/token",
        auth=(client_id, "wrong-secret"),
        data={"grant_type": "client_credentials"},
    )
    assert wrong.status_code == 401

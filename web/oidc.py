"""OpenID Connect provider endpoints: discovery, JWKS, authorize (with consent), token,
userinfo. The protocol work is Authlib's (:mod:`core.identity.oidc`); this is the HTTP glue."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template

from core.db import PLATFORM, Database
from core.identity.scopes import SCOPE_LABELS
from core.tenancy import scope_for
from web.auth import page_principal, session_auth_time
from web.params import Form
from web.templating import page

if TYPE_CHECKING:
    from core.identity import oidc

# Authlib and core.identity.oidc (with joserfc, about 3.5 MB of modules in a web process) are
# imported by the handlers that use them, on the process's first OpenID Connect request
# (docs/performance.md, "Memory under load").

_AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
)


#: OAuth's error codes (RFC 6749 §4.1.2.1, §5.2; OpenID Connect Core §3.1.2.6) in words a person
#: reads: the sign-in page shows them, and a JSON refusal carries them as ``detail`` beside the
#: code and the library's ``error_description`` (which the RFC keeps to ASCII)
OAUTH_WORDS = {
    "invalid_client": "这个应用未在本平台登记，或应用标识、应用密钥不正确",
    "invalid_request": "登录请求的参数不正确（如回调地址未登记），请联系该应用的开发单位",
    "unauthorized_client": "这个应用无权以这种方式请求登录或令牌",
    "access_denied": "已拒绝授权",
    "unsupported_response_type": "这个应用请求的登录方式本平台不支持，请联系该应用的开发单位",
    "unsupported_grant_type": "不支持这种获取令牌的方式",
    "invalid_grant": "授权码无效、已使用或已过期，请重新登录",
    "invalid_scope": "这个应用请求的权限范围不正确或未获准",
    "invalid_token": "访问令牌无效或已过期",
    "login_required": "需要先登录",
    "consent_required": "需要您先同意授权",
    "server_error": "服务器内部错误，请稍后再试",
    "temporarily_unavailable": "服务暂时不可用，请稍后再试",
}


def oauth_words(error: str) -> str:
    return OAUTH_WORDS.get(error, "登录请求无法处理，请联系该应用的开发单位")


def _to_response(status: int, body: Any, headers: list[tuple[str, str]] | None) -> Response[Any]:
    hdrs = dict(headers or [])
    if isinstance(body, str) and body.startswith("{"):
        body = json.loads(body)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        body = {**body, "detail": oauth_words(body["error"])}
    if isinstance(body, dict | list):
        hdrs.pop("Content-Type", None)
        return Response(body, status_code=status, headers=hdrs)
    return Response(body or "", status_code=status, headers=hdrs)


def _with_query(uri: str, **values: str | None) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in values.items() if v})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _without_login(prompt: str) -> str:
    return " ".join(p for p in prompt.split() if p != "login")


def _must_sign_in_again(params: dict[str, str], auth_time: int | None) -> bool:
    if "login" in params.get("prompt", "").split():
        return True
    try:
        max_age = int(params.get("max_age", ""))
    except ValueError:
        return False
    return auth_time is None or time.time() - auth_time > max_age


def _oauth_request(
    request: Request[Any, Any, Any], form: dict[str, str] | None = None
) -> oidc.GovhallRequest:
    from core.identity import oidc

    return oidc.GovhallRequest(
        method=request.method,
        uri=str(request.url),
        headers=request.headers,
        query={k: v for k, v in request.query_params.items()},
        form=form or {},
    )


def _authorize(
    request: Request[Any, Any, Any], state: State, form: dict[str, str] | None, decision: str | None
) -> Response[Any] | Template | Redirect:
    from authlib.oauth2 import OAuth2Error

    from core.identity import oidc

    database: Database = state.database
    with database.session(scope=PLATFORM) as session:
        server = oidc.build_server(session)
        params = (
            dict(request.query_params.items())
            if form is None
            else {k: v for k, v in form.items() if k in _AUTHORIZE_PARAMS}
        )
        oauth_request = oidc.GovhallRequest(
            request.method, str(request.url), request.headers, params, {}
        )
        try:
            grant = server.get_consent_grant(oauth_request)
        except OAuth2Error as exc:
            if exc.redirect_uri:  # the client is known and its address checked: tell it
                return Redirect(
                    _with_query(exc.redirect_uri, error=exc.error, state=params.get("state"))
                )
            return page(
                request,
                "errors/error.html",
                status_code=400,
                status=400,
                code=exc.error,
                detail=oauth_words(exc.error),  # the library's English stays out of the page
            )
        client: oidc.ClientModel = grant.client
        tenant = client.tenant
    with database.session(scope=scope_for(tenant)) as tenant_session:
        principal = page_principal(request, tenant_session, tenant)
        user = (
            oidc.load_user(tenant_session, tenant, principal.kind, principal.id)
            if principal and principal.id
            else None
        )
    if user is not None:
        user.auth_time = session_auth_time(request)
        if _must_sign_in_again(params, user.auth_time):
            # prompt=login, or a max_age the sign-in is older than: prove it again. The way
            # back leaves out prompt=login, or it would ask for ever.
            request.clear_session()
            again = {**params, "prompt": _without_login(params.get("prompt", ""))}
            next_url = "/oauth/authorize?" + urlencode({k: v for k, v in again.items() if v})
            login = "staff/login" if "staff" in params.get("prompt", "").split() else "login"
            return Redirect(f"/t/{tenant.slug}/{login}?" + urlencode({"next": next_url}))
    if params.get("prompt") == "none":
        # The client asked us not to show anything: no session, or a consent we would have
        # to ask for, goes straight back as an error (OpenID Connect Core §3.1.2.6).
        error = "login_required" if user is None else "consent_required"
        return Redirect(_with_query(grant.redirect_uri, error=error, state=params.get("state")))
    if user is None:
        next_url = "/oauth/authorize?" + urlencode(params)
        login = "staff/login" if "staff" in params.get("prompt", "").split() else "login"
        return Redirect(f"/t/{tenant.slug}/{login}?" + urlencode({"next": next_url}))
    if decision is None:
        return page(
            request,
            "auth/consent.html",
            tenant=tenant,
            client=client.row,
            params=params,
            scopes=[(s, SCOPE_LABELS.get(s, s)) for s in (grant.request.scope or "").split()],
        )
    with database.session(scope=PLATFORM) as session:
        server = oidc.build_server(session)
        oauth_request = oidc.GovhallRequest("POST", str(request.url), request.headers, params, {})
        status, body, headers = server.create_authorization_response(
            oauth_request, grant_user=user if decision == "allow" else None
        )
        session.commit()
    return _to_response(status, body, headers)


class OidcController(Controller):
    """Handlers live on a controller so that every app gets its own instances."""

    @get(
        "/.well-known/openid-configuration",
        name="oidc_discovery",
        tags=["openid"],
    )
    async def discovery(self) -> dict[str, Any]:
        """OpenID Connect discovery document."""
        from core.identity import oidc

        return oidc.discovery_document()

    @get("/oauth/jwks", name="oidc_jwks", tags=["openid"])
    async def jwks(self) -> dict[str, Any]:
        """The public keys that verify ID tokens."""
        from core.identity import oidc

        return oidc.jwks()

    @get("/oauth/authorize", name="oidc_authorize", sync_to_thread=True, include_in_schema=False)
    def authorize_page(
        self, request: Request[Any, Any, Any], state: State
    ) -> Response[Any] | Template | Redirect:
        return _authorize(request, state, None, None)

    @post(
        "/oauth/authorize", name="oidc_authorize_post", sync_to_thread=True, include_in_schema=False
    )
    def authorize_decision(
        self, request: Request[Any, Any, Any], state: State, data: Form
    ) -> Response[Any] | Template | Redirect:
        return _authorize(
            request, state, data, "allow" if data.get("decision") == "allow" else "deny"
        )

    @post("/oauth/token", name="oidc_token", sync_to_thread=True, tags=["openid"], status_code=200)
    def token(self, request: Request[Any, Any, Any], state: State, data: Form) -> Response[Any]:
        """Token endpoint: authorization_code (PKCE) and client_credentials grants."""
        from core.identity import oidc

        database: Database = state.database
        with database.session(scope=PLATFORM) as session:
            server = oidc.build_server(session)
            status, body, headers = server.create_token_response(_oauth_request(request, data))
            session.commit()  # also a refusal: a replayed code has just revoked its tokens
        response = _to_response(status, body, headers)
        response.headers["Cache-Control"] = "no-store"
        return response

    @get("/oauth/userinfo", name="oidc_userinfo", sync_to_thread=True, tags=["openid"])
    def userinfo(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        """Claims about the user behind an access token with the ``openid`` scope."""
        from core.identity import oidc

        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        database: Database = state.database
        info = None
        if scheme.lower() == "bearer" and value:
            with database.session(scope=PLATFORM) as session:
                info = oidc.userinfo_for_token(session, value.strip())
        if info is None:
            return Response(
                {"error": "invalid_token", "detail": oauth_words("invalid_token")},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return Response(info)


ROUTES = [OidcController]

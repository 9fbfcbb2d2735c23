"""The OAuth 2.0 / OpenID Connect provider, built on Authlib's framework-neutral server.

Grants: authorization code (with PKCE, S256) carrying OpenID Connect ID tokens, and client
credentials. Clients are registered per tenant (:class:`OAuthClient`); a user signs in to the
client's tenant. Access tokens are ordinary :class:`ApiToken` rows, so they also open the
JSON API. The ID-token signing key (RS256) comes from configuration, never the database.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import new_id, utcnow
from core.errors import InvalidInput
from core.identity.models import Account, ApiToken, OAuthClient, OAuthCode, Staff
from core.identity.passwords import hash_secret, verify_password
from core.identity.principal import Principal
from core.identity.scopes import API_SCOPES, OIDC_SCOPES, unknown_scopes
from core.identity.service import account_principal, staff_principal
from core.identity.tokens import token_hash
from core.tenancy import Tenant, get_tenant

__all__ = [
    "GovhallRequest",
    "build_server",
    "discovery_document",
    "jwks",
    "register_client",
    "userinfo_for_token",
]

ACCESS_TOKEN_TTL = 3600
SCOPES = [*OIDC_SCOPES, *API_SCOPES]


# -- keys ----------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _load_key(path: str) -> RSAKey:
    file = Path(path)
    if not file.exists():
        if get_settings().is_production:  # never mint a key nobody else knows about
            raise RuntimeError(f"the OIDC signing key {path} does not exist")
        # Development only: production sets GOVHALL_OIDC_KEY_FILE (see docs/operations.md).
        file.parent.mkdir(parents=True, exist_ok=True)
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        file.write_bytes(pem)
        file.chmod(0o600)
    key = RSAKey.import_key(file.read_bytes())
    key.ensure_kid()
    return key


def signing_key() -> RSAKey:
    settings = get_settings()
    path = settings.oidc_key_file or str(Path(settings.var_dir) / "oidc-signing-key.pem")
    return _load_key(path)


def jwks() -> dict[str, Any]:
    key = signing_key()
    public = key.as_dict(private=False)
    public.update({"use": "sig", "alg": "RS256", "kid": key.kid or ""})
    return {"keys": [public]}


def issuer() -> str:
    return get_settings().base_url.rstrip("/")


def discovery_document() -> dict[str, Any]:
    base = issuer()
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "jwks_uri": f"{base}/oauth/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": SCOPES,
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "name", "phone_number", "govhall_tenant", "govhall_kind"],
    }


# -- requests ------------------------------------------------------------------------------------


class GovhallRequest(OAuth2Request):
    """An OAuth2 request built from already-parsed query and form values."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Any,
        query: dict[str, str],
        form: dict[str, str],
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._args = query
        self._form = form
        merged = {**query, **form}
        self.payload = BasicOAuth2Payload(merged)
        self.payload._datalist = defaultdict(list, {k: [v] for k, v in merged.items()})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


# -- clients and users ---------------------------------------------------------------------------


class ClientModel(ClientMixin):
    def __init__(self, row: OAuthClient, tenant: Tenant) -> None:
        self.row = row
        self.tenant = tenant

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.row.redirect_uris[0] if self.row.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        allowed = set(self.row.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.row.client_secret_hash) and verify_password(
            self.row.client_secret_hash, client_secret
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint != "token":
            return True
        if self.is_public:
            return method == "none"
        # a confidential client may send its secret either way discovery advertises
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types

    @property
    def is_public(self) -> bool:
        return self.row.client_secret_hash is None

    def api_scope(self) -> str:
        """The API scopes the client is registered for (a client-credentials default)."""
        return " ".join(s for s in self.row.scope.split() if s in API_SCOPES)


class UserModel:
    """A signed-in subject (staff member or account) as the grants see it."""

    def __init__(
        self,
        principal: Principal,
        tenant: Tenant,
        phone: str | None = None,
        auth_time: int | None = None,
    ) -> None:
        self.principal = principal
        self.tenant = tenant
        self.phone = phone
        #: when the person signed in (the ID token's auth_time; None: not known)
        self.auth_time = auth_time

    def get_user_id(self) -> str:
        return str(self.principal.id)


class CodeModel:
    def __init__(self, row: OAuthCode) -> None:
        self.row = row

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return self.row.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


def _claims(user: UserModel, scope: str) -> UserInfo:
    info = UserInfo(
        sub=f"{user.principal.kind}:{user.principal.id}",
        govhall_tenant=user.tenant.slug,
        govhall_kind=user.principal.kind,
    )
    if "profile" in scope.split():
        info["name"] = user.principal.name
    if "phone" in scope.split() and user.phone:
        info["phone_number"] = "+86" + user.phone
    return info


def load_user(
    session: Session, tenant: Tenant, kind: str, subject_id: uuid.UUID
) -> UserModel | None:
    if kind == "staff":
        staff = session.get(Staff, (tenant.id, subject_id))
        if staff is None or not staff.active:
            return None
        return UserModel(staff_principal(session, tenant, staff), tenant, staff.phone)
    account = session.get(Account, (tenant.province_id, subject_id))
    if account is None or not account.active:
        return None
    return UserModel(account_principal(account), tenant, account.phone)


# -- grants --------------------------------------------------------------------------------------


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: ClientModel) -> str:
        # Authlib quotes the refused address in its error text, and refuses its own error when
        # the address holds '"' or '\\' (a 500): check first, and say it without quoting.
        uri = request.payload.redirect_uri
        if uri and not client.check_redirect_uri(uri):
            raise InvalidRequestError("redirect_uri is not registered for this client")
        redirect: str = grants.AuthorizationCodeGrant.validate_authorization_redirect_uri(
            request, client
        )
        return redirect

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        client: ClientModel = self.request.client
        # A public client could never redeem a code without PKCE: refuse it here, where the
        # person has not yet been asked anything (RFC 7636 §4.4.1, OAuth 2.1).
        data = self.request.payload.data
        if client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError(
                "public clients must use PKCE (code_challenge)", redirect_uri=redirect_uri
            )
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            # without a method PKCE means "plain": the challenge is the verifier itself
            raise InvalidRequestError(
                "code_challenge_method must be S256", redirect_uri=redirect_uri
            )
        if "openid" in (data.get("scope") or "").split() and not data.get("redirect_uri"):
            raise InvalidRequestError("redirect_uri is required (OpenID Connect)")
        return redirect_uri

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        session: Session = self.server.session
        client: ClientModel = request.client
        user: UserModel = request.user
        data = request.payload.data
        session.add(
            OAuthCode(
                tenant_id=client.tenant.id,
                id=new_id(),
                code_hash=token_hash(code),
                client_id=client.get_client_id(),
                subject_kind=user.principal.kind,
                subject_id=user.principal.id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope or "",
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=user.auth_time or int(time.time()),
                expires_at=utcnow() + timedelta(minutes=5),
            )
        )
        session.flush()

    def query_authorization_code(self, code: str, client: ClientModel) -> CodeModel | None:
        session: Session = self.server.session
        row = session.scalar(
            select(OAuthCode).where(
                OAuthCode.code_hash == token_hash(code),
                OAuthCode.client_id == client.get_client_id(),
                OAuthCode.tenant_id == client.tenant.id,
            )
        )
        if row is not None and row.used:
            # A code redeemed twice was stolen or replayed: revoke what it was exchanged for
            # (RFC 6749 §4.1.2). The token endpoint commits this even though it answers 400.
            session.execute(
                update(ApiToken).where(ApiToken.grant_id == row.id).values(revoked=True)
            )
            return None
        if row is None or row.expires_at <= utcnow():
            return None
        return CodeModel(row)

    def delete_authorization_code(self, authorization_code: CodeModel) -> None:
        authorization_code.row.used = True

    def authenticate_user(self, authorization_code: CodeModel) -> UserModel | None:
        session: Session = self.server.session
        row = authorization_code.row
        tenant = get_tenant(session, row.tenant_id)
        return load_user(session, tenant, row.subject_kind, row.subject_id)


class PKCE(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def get_authorization_code_challenge(self, authorization_code: CodeModel) -> str | None:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: CodeModel) -> str | None:
        return authorization_code.row.code_challenge_method


class GovhallOpenIDCode(OpenIDCode):
    def __init__(self, session: Session) -> None:
        super().__init__(require_nonce=False)
        self.session = session

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        """A nonce already used with this client is a replay."""
        return (
            self.session.scalar(
                select(OAuthCode.id).where(
                    OAuthCode.nonce == nonce, OAuthCode.client_id == request.payload.client_id
                )
            )
            is not None
        )

    def resolve_client_private_key(self, client: ClientModel) -> RSAKey:
        return signing_key()

    def get_client_algorithm(self, client: ClientModel) -> str:
        return "RS256"

    def get_client_claims(self, client: ClientModel) -> dict[str, Any]:
        return {"iss": issuer(), "aud": [client.get_client_id()]}

    def get_encode_header(self, client: ClientModel) -> dict[str, str]:
        return {"alg": "RS256", "kid": signing_key().kid or ""}

    def generate_user_info(self, user: UserModel, scope: str) -> UserInfo:
        return _claims(user, scope)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class GovhallAuthorizationServer(AuthorizationServer):
    """One per request, bound to a PLATFORM-scoped session (a client names its tenant)."""

    def __init__(self, session: Session) -> None:
        super().__init__(scopes_supported=SCOPES)
        self.session = session
        self.register_token_generator("default", self._generate_token)

    @staticmethod
    def _generate_token(
        grant_type: str,
        client: ClientModel,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        if grant_type == "client_credentials" and not scope:
            scope = client.api_scope()  # a machine asks for nothing: what it is registered for
        # whatever the grant, never more than the client is registered for (the authorization
        # code flow has filtered already; client credentials ask the token endpoint directly)
        scope = client.get_allowed_scope(scope or "")
        return {
            "token_type": "Bearer",
            "access_token": "gh_" + secrets.token_urlsafe(32),
            "expires_in": ACCESS_TOKEN_TTL,
            "scope": scope or "",
        }

    def query_client(self, client_id: str) -> ClientModel | None:
        row = self.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        if row is None:
            return None
        tenant = get_tenant(self.session, row.tenant_id)
        if tenant.status.value != "active":
            return None
        return ClientModel(row, tenant)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        client: ClientModel = request.client
        user: UserModel | None = request.user
        kind = user.principal.kind if user else "client"
        staff_bound = kind in ("staff", "client")
        code = getattr(request, "authorization_code", None)
        self.session.add(
            ApiToken(
                province_id=client.tenant.province_id,
                id=new_id(),
                token_hash=token_hash(token["access_token"]),
                tenant_id=client.tenant.id if staff_bound else None,
                subject_kind=kind,
                subject_id=user.principal.id if user else None,
                client_id=client.get_client_id(),
                scope=token.get("scope") or "",
                expires_at=utcnow() + timedelta(seconds=ACCESS_TOKEN_TTL),
                grant_id=code.row.id if isinstance(code, CodeModel) else None,
            )
        )
        self.session.flush()

    def create_oauth2_request(self, request: GovhallRequest) -> GovhallRequest:
        return request

    def create_json_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def build_server(session: Session) -> GovhallAuthorizationServer:
    server = GovhallAuthorizationServer(session)
    server.register_grant(AuthorizationCodeGrant, [PKCE(required=True), GovhallOpenIDCode(session)])
    server.register_grant(ClientCredentialsGrant)
    return server


def userinfo_for_token(session: Session, access_token: str) -> dict[str, Any] | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(access_token)))
    if row is None or row.revoked or row.expires_at <= utcnow() or row.subject_id is None:
        return None
    if "openid" not in row.scope.split() or row.client_id is None:
        return None
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == row.client_id))
    if client is None:
        return None
    tenant = get_tenant(session, client.tenant_id)
    user = load_user(session, tenant, row.subject_kind, row.subject_id)
    return dict(_claims(user, row.scope)) if user else None


def register_client(
    session: Session,
    tenant: Tenant,
    *,
    name: str,
    redirect_uris: list[str],
    grant_types: list[str] | None = None,
    public: bool = False,
    scope: str | None = None,
) -> tuple[OAuthClient, str | None]:
    """Register a client for ``tenant``; returns it and its secret (shown once).

    ``scope`` is what the client may ask for (a person still consents to each API scope):
    by default ``openid profile phone`` — signing people in, no API — or ``department`` for
    a machine client using client credentials (a department's system posting decisions)."""
    grant_types = grant_types or ["authorization_code"]
    if scope is None:
        machine = grant_types == ["client_credentials"]
        scope = "department" if machine else "openid profile phone"
    unknown = unknown_scopes(scope)
    if unknown:
        raise InvalidInput(f"未知的授权范围：{'、'.join(unknown)}", field="scope")
    for uri in redirect_uris:
        if not uri.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise InvalidInput(
                "回调地址须使用 https（本机调试可用 http://127.0.0.1 或 http://localhost）",
                field="redirect_uris",
            )
    if public and "client_credentials" in grant_types:
        raise InvalidInput("公开应用不能使用 client_credentials 授权方式", field="grant_types")
    secret = None if public else secrets.token_urlsafe(32)
    client = OAuthClient(
        tenant_id=tenant.id,
        id=new_id(),
        client_id=f"{tenant.slug}-{hashlib.sha256(secrets.token_bytes(16)).hexdigest()[:16]}",
        client_secret_hash=hash_secret(secret) if secret else None,
        name=name,
        redirect_uris=redirect_uris,
        grant_types=grant_types,
        scope=scope,
        token_endpoint_auth_method="none" if public else "client_secret_basic",
    )
    session.add(client)
    session.flush()
    return client, secret

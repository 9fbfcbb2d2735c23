"""Staff, accounts, tokens and OAuth clients."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import click

from core.db import get_database
from core.errors import GovhallError
from web.cli._base import _fail, _tenant, log, main  # noqa: F401

# -- users and tokens ------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Staff and accounts."""


@users.command("create")
@click.option("--tenant", "slug", required=True)
@click.option("--username", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="ROLE or ROLE@UNIT_CODE, e.g. window_clerk@ZWFW-01 (repeatable).",
)
@click.option("--phone", default=None)
def users_create(
    slug: str, username: str, name: str, password: str, roles: tuple[str, ...], phone: str | None
) -> None:
    """Create a staff member with roles."""
    from sqlalchemy import select

    from core.identity import Role
    from core.identity.service import create_staff, grant_role
    from core.tenancy import OrgUnit, scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        try:
            staff = create_staff(
                session, tenant, username=username, name=name, password=password, phone=phone
            )
            for spec in roles:
                role_name, _, unit_code = spec.partition("@")
                try:
                    role = Role(role_name)
                except ValueError:
                    _fail(f"unknown role '{role_name}'; one of {[r.value for r in Role]}")
                unit = None
                if unit_code:
                    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
                    if unit is None:
                        _fail(f"no org unit with code '{unit_code}' in {slug}")
                grant_role(session, staff, role, unit)
        except GovhallError as exc:
            _fail(f"{exc.field or ''}: {exc.detail}")
        session.commit()
    click.echo(f"已创建工作人员 {username} ({slug})")


@users.command("totp")
@click.option("--tenant", "slug", required=True)
@click.option("--username", required=True)
def users_totp(slug: str, username: str) -> None:
    """Turn on TOTP for a staff member; prints the otpauth:// URI for their authenticator."""
    from sqlalchemy import select

    from core.identity import Staff
    from core.identity.service import enable_totp
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        staff = session.scalar(select(Staff).where(Staff.username == username))
        if staff is None:
            _fail(f"no staff member '{username}' in {slug}")
        uri = enable_totp(staff)
        session.commit()
    click.echo(uri)


def _change_staff(slug: str, username: str, change: Any) -> None:
    from sqlalchemy import select

    from core.identity import Staff
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        staff = session.scalar(select(Staff).where(Staff.username == username))
        if staff is None:
            _fail(f"{slug} 没有工作人员 {username}")
        try:
            change(staff)
        except GovhallError as exc:
            _fail(exc.detail)
        session.commit()


@users.command("password")
@click.option("--tenant", "slug", required=True)
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_password(slug: str, username: str, password: str) -> None:
    """Set a staff member's password; every session made with the old one ends."""
    from core.identity.sessions import set_password

    _change_staff(slug, username, lambda staff: set_password(staff, password))
    click.echo(f"已为 {username} 设置新密码，原有登录会话已全部结束")


@users.command("disable")
@click.option("--tenant", "slug", required=True)
@click.option("--username", required=True)
@click.option("--enable", is_flag=True, help="Enable again instead.")
def users_disable(slug: str, username: str, enable: bool) -> None:
    """Disable (or --enable) a staff member; a disabled one's sessions and tokens stop."""
    from core.identity.sessions import set_active

    _change_staff(slug, username, lambda staff: set_active(staff, enable))
    click.echo(f"已{'启用' if enable else '停用'} {username}")


@users.command("end-sessions")
@click.option("--tenant", "slug", required=True)
@click.option("--username", required=True)
def users_end_sessions(slug: str, username: str) -> None:
    """End every session of a staff member, on every device, and revoke their tokens."""
    from core.identity.sessions import end_access

    _change_staff(slug, username, end_access)
    click.echo(f"已结束 {username} 的全部登录会话，并吊销其全部令牌")


@main.group()
def tokens() -> None:
    """Bearer tokens for the JSON API."""


@tokens.command("issue")
@click.option("--tenant", "slug", required=True)
@click.option("--user", "username", required=True, help="A staff username, or an account's phone.")
@click.option("--days", default=30, show_default=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="An API scope the token may use (repeatable): cases:read, cases:write, "
    "catalog:write, supervision, admin, department. Default: all of them.",
)
def tokens_issue(slug: str, username: str, days: int, scopes: tuple[str, ...]) -> None:
    """Print a bearer token for USER in TENANT (within USER's roles and the scopes)."""
    from sqlalchemy import select

    from core.identity import Staff
    from core.identity.scopes import API_SCOPES
    from core.identity.service import account_principal, find_account_by_phone, staff_principal
    from core.identity.tokens import issue_token
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        staff = session.scalar(select(Staff).where(Staff.username == username))
        if staff is not None:
            principal = staff_principal(session, tenant, staff)
        else:
            account = None
            if username.isdigit():
                account = find_account_by_phone(session, tenant.province_id, username)
            if account is None:
                _fail(f"no staff member or account '{username}' in {slug}")
            principal = account_principal(account)
        try:
            token = issue_token(
                session,
                tenant,
                principal,
                ttl=timedelta(days=days),
                scope=" ".join(scopes or API_SCOPES),
            )
        except GovhallError as exc:
            _fail(exc.detail)
        session.commit()
    click.echo(token)


@main.group()
def clients() -> None:
    """OAuth 2.0 / OpenID Connect clients."""


@clients.command("register")
@click.option("--tenant", "slug", required=True)
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice(["authorization_code", "client_credentials"]),
)
@click.option("--public", is_flag=True, help="No secret (PKCE only), e.g. a mobile app.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="A scope the client may ask for (repeatable). Default: openid profile phone, or "
    "department for a client-credentials-only client.",
)
def clients_register(
    slug: str,
    name: str,
    redirect_uris: tuple[str, ...],
    grants: tuple[str, ...],
    public: bool,
    scopes: tuple[str, ...],
) -> None:
    """Register a client; prints its id and (once) its secret."""
    from core.identity.oidc import register_client
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        try:
            client, secret = register_client(
                session,
                tenant,
                name=name,
                redirect_uris=list(redirect_uris),
                grant_types=list(grants) or None,
                public=public,
                scope=" ".join(scopes) or None,
            )
        except GovhallError as exc:
            _fail(exc.detail)
        session.commit()
    click.echo(json.dumps({"client_id": client.client_id, "client_secret": secret}))

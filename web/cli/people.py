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
    """工作人员账号：创建、动态口令、密码、停用、强制下线。"""


@users.command("create")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.option("--username", required=True, help="工作人员的用户名。")
@click.option("--name", required=True, help="姓名。")
@click.option(
    "--password", prompt="密码", hide_input=True, confirmation_prompt=True, help="初始密码。"
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="角色，或 角色@机构代码，如 window_clerk@ZWFW-01（可重复）。",
)
@click.option("--phone", default=None, help="手机号。")
def users_create(
    slug: str, username: str, name: str, password: str, roles: tuple[str, ...], phone: str | None
) -> None:
    """创建工作人员并授予角色。"""
    from sqlalchemy import select

    from core.identity import ROLE_LABELS, Role
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
                    _fail(
                        f"没有角色「{role_name}」，可用："
                        + "、".join(f"{r.value}（{ROLE_LABELS[r]}）" for r in Role)
                    )
                unit = None
                if unit_code:
                    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
                    if unit is None:
                        _fail(f"{tenant.name}没有代码为 {unit_code} 的机构")
                grant_role(session, staff, role, unit)
        except GovhallError as exc:
            _fail(exc.detail)
        session.commit()
    click.echo(f"已在{tenant.name}创建工作人员 {username}")


@users.command("totp")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.option("--username", required=True, help="工作人员的用户名。")
def users_totp(slug: str, username: str) -> None:
    """为工作人员开启动态口令（TOTP），输出供验证器应用扫描的 otpauth:// 地址。"""
    from sqlalchemy import select

    from core.identity import Staff
    from core.identity.service import enable_totp
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        staff = session.scalar(select(Staff).where(Staff.username == username))
        if staff is None:
            _fail(f"{tenant.name}没有工作人员 {username}")
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
            _fail(f"{tenant.name}没有工作人员 {username}")
        try:
            change(staff)
        except GovhallError as exc:
            _fail(exc.detail)
        session.commit()


@users.command("password")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.option("--username", required=True, help="工作人员的用户名。")
@click.option(
    "--password", prompt="新密码", hide_input=True, confirmation_prompt=True, help="新密码。"
)
def users_password(slug: str, username: str, password: str) -> None:
    """设置工作人员的新密码；用旧密码建立的登录会话全部结束。"""
    from core.identity.sessions import set_password

    _change_staff(slug, username, lambda staff: set_password(staff, password))
    click.echo(f"已为 {username} 设置新密码，原有登录会话已全部结束")


@users.command("disable")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.option("--username", required=True, help="工作人员的用户名。")
@click.option("--enable", is_flag=True, help="改为重新启用。")
def users_disable(slug: str, username: str, enable: bool) -> None:
    """停用（或 --enable 重新启用）工作人员；停用后其登录会话和令牌随即失效。"""
    from core.identity.sessions import set_active

    _change_staff(slug, username, lambda staff: set_active(staff, enable))
    click.echo(f"已{'启用' if enable else '停用'} {username}")


@users.command("end-sessions")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.option("--username", required=True, help="工作人员的用户名。")
def users_end_sessions(slug: str, username: str) -> None:
    """结束工作人员在所有设备上的登录会话，并吊销其全部令牌。"""
    from core.identity.sessions import end_access

    _change_staff(slug, username, end_access)
    click.echo(f"已结束 {username} 的全部登录会话，并吊销其全部令牌")


@main.group()
def tokens() -> None:
    """JSON 接口的访问令牌。"""


@tokens.command("issue")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.option("--user", "username", required=True, help="工作人员用户名，或群众账号的手机号。")
@click.option("--days", default=30, show_default=True, help="有效天数。")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="令牌可用的接口权限（可重复）：cases:read、cases:write、catalog:write、"
    "supervision、admin、department；不指定则全部可用。",
)
def tokens_issue(slug: str, username: str, days: int, scopes: tuple[str, ...]) -> None:
    """为地区中的 USER 签发访问令牌并输出（权限不超出其角色和所给范围）。"""
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
                _fail(f"{tenant.name}没有用户名或手机号为 {username} 的工作人员或账号")
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
    """OAuth 2.0 / OpenID Connect 接入应用。"""


@clients.command("register")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.option("--name", required=True, help="应用名称。")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="回调地址（可重复）。")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice(["authorization_code", "client_credentials"]),
    help="授权方式（可重复）。",
)
@click.option("--public", is_flag=True, help="公开应用，不发密钥（只用 PKCE），如手机应用。")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="应用可申请的权限（可重复）；默认为 openid、profile、phone，"
    "只用 client_credentials 的应用默认 department。",
)
def clients_register(
    slug: str,
    name: str,
    redirect_uris: tuple[str, ...],
    grants: tuple[str, ...],
    public: bool,
    scopes: tuple[str, ...],
) -> None:
    """登记接入应用；输出其编号和密钥（密钥只显示这一次）。"""
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

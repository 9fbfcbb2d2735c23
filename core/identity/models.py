"""Accounts (citizens, enterprises), staff, roles, tokens, one-time codes, throttles, OAuth."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, EncryptedString, ProvinceOwned, TenantOwned, new_id, utcnow


class AccountKind(enum.StrEnum):
    citizen = "citizen"
    enterprise = "enterprise"


class Role(enum.StrEnum):
    """Staff roles, held per org unit (or tenant-wide when no unit is given)."""

    window_clerk = "window_clerk"  # 窗口受理
    reviewer = "reviewer"  # 审核
    approver = "approver"  # 审批
    issuer = "issuer"  # 发证
    supervisor = "supervisor"  # 监察
    tenant_admin = "tenant_admin"  # 县级管理员
    province_admin = "province_admin"  # 省级管理员
    agent = "agent"  # 代办员


ROLE_LABELS = {
    Role.window_clerk: "窗口受理员",
    Role.reviewer: "审核员",
    Role.approver: "审批人",
    Role.issuer: "发证员",
    Role.supervisor: "电子监察员",
    Role.tenant_admin: "管理员",
    Role.province_admin: "省级管理员",
    Role.agent: "村级代办员",
}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=32, validate_strings=True)


class Account(ProvinceOwned, Base):
    """A citizen or enterprise: belongs to the province, works in every county of it."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("province_id", "phone_index"),
        ForeignKeyConstraint(["province_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind, "account_kind"))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(EncryptedString(255))
    phone_index: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str | None] = mapped_column(EncryptedString(255))
    id_number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    #: 统一社会信用代码 of an enterprise (public, not personal data).
    credit_code: Mapped[str | None] = mapped_column(String(18))
    #: when the citizen confirmed their name and ID number on the portal (实名确认)
    real_name_at: Mapped[datetime | None] = mapped_column()
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: a session is valid only while its cookie carries this number (see end_sessions)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Staff(TenantOwned, Base):
    """A member of a county's (or province's) staff."""

    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("tenant_id", "username"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(EncryptedString(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: a session is valid only while its cookie carries this number (see end_sessions)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the password was issued by an administrator (临时密码): it opens one sign-in, which
    #: goes straight to choosing a password of one's own
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    #: an administrator requires a dynamic code (动态口令): enrol at the next sign-in
    totp_required: Mapped[bool] = mapped_column(Boolean, default=False)


class StaffRole(TenantOwned, Base):
    __tablename__ = "staff_roles"
    __table_args__ = (
        UniqueConstraint("tenant_id", "staff_id", "role", "org_unit_id"),
        ForeignKeyConstraint(
            ["tenant_id", "staff_id"], ["staff.tenant_id", "staff.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    staff_id: Mapped[uuid.UUID] = mapped_column()
    role: Mapped[Role] = mapped_column(_enum(Role, "staff_role"))
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column()


class ApiToken(ProvinceOwned, Base):
    """A bearer token for the JSON API (CLI-issued or OAuth access token); stored hashed."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        UniqueConstraint("province_id", "token_hash"),
        ForeignKeyConstraint(["province_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64))
    #: staff tokens are valid in their own tenant only; citizens' in the whole province.
    tenant_id: Mapped[uuid.UUID | None] = mapped_column()
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID | None] = mapped_column()
    client_id: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(255), default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the authorization code it was exchanged for (a replayed code revokes its tokens)
    grant_id: Mapped[uuid.UUID | None] = mapped_column(index=True)


class OneTimeCode(ProvinceOwned, Base):
    """An SMS sign-in code; only its keyed hash is stored."""

    __tablename__ = "one_time_codes"
    __table_args__ = (
        Index("ix_one_time_codes_phone", "province_id", "phone_index", "created_at"),
        ForeignKeyConstraint(["province_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    phone_index: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginThrottle(Base):
    """Failure counters for sign-in keys (account, phone, address); platform-level."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column()


class OAuthClient(TenantOwned, Base):
    """A county system or app registered to sign users in through govhall (OIDC)."""

    __tablename__ = "oauth_clients"
    __table_args__ = (
        UniqueConstraint("client_id"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(64))
    client_secret_hash: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120))
    redirect_uris: Mapped[list[Any]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[Any]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(255), default="openid profile")
    token_endpoint_auth_method: Mapped[str] = mapped_column(
        String(40), default="client_secret_basic"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthCode(TenantOwned, Base):
    """An authorization code awaiting exchange (single use, short-lived)."""

    __tablename__ = "oauth_codes"
    __table_args__ = (
        UniqueConstraint("code_hash"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column()
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(255))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    auth_time: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column()
    used: Mapped[bool] = mapped_column(Boolean, default=False)

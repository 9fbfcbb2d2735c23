"""Identity: citizens and enterprises (province-wide), staff with roles per org unit, sign-in,
tokens, and the OAuth 2.0 / OpenID Connect provider (:mod:`core.identity.oidc`)."""

from core.identity.errors import BadCredentials, LockedOut
from core.identity.models import (
    ROLE_LABELS,
    Account,
    AccountKind,
    ApiToken,
    OAuthClient,
    Role,
    Staff,
    StaffRole,
)
from core.identity.principal import Principal

__all__ = [
    "ROLE_LABELS",
    "Account",
    "AccountKind",
    "ApiToken",
    "BadCredentials",
    "LockedOut",
    "OAuthClient",
    "Principal",
    "Role",
    "Staff",
    "StaffRole",
]
